import type { CommandIo } from '@callmon/config';
import { ingestCommand, liveCommand } from '@callmon/ingest';
import { simulateCommand } from '@callmon/simulator';
import { reportCommand } from './report-command.ts';
import { startCommand } from './start-command.ts';

export interface Command {
  summary: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** Every `callmon` subcommand, dispatched to the service that owns it. */
export const COMMANDS: Record<string, Command> = {
  ingest: {
    summary: 'ingest an NDJSON file of events into the store and exit',
    run: ingestCommand,
  },
  live: {
    summary: 'replay an NDJSON file through the live engine and print the snapshot as of a time',
    run: liveCommand,
  },
  start: {
    summary:
      'run the embedded all-in-one: simulator → ingest → store → live engine, with a terminal view',
    run: startCommand,
  },
  report: {
    summary: 'print a weekly report (json, csv or html) from the stored events',
    run: reportCommand,
  },
  simulate: {
    summary: 'generate a realistic, seeded control-room event stream as NDJSON',
    run: simulateCommand,
  },
};
