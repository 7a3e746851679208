import type { CommandIo } from '@callmon/config';
import { liveCommand } from '@callmon/ingest';
import { simulateCommand } from '@callmon/simulator';

export interface Command {
  summary: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** Every `callmon` subcommand, dispatched to the service that owns it. */
export const COMMANDS: Record<string, Command> = {
  live: {
    summary: 'replay an NDJSON file through the live engine and print the snapshot as of a time',
    run: liveCommand,
  },
  simulate: {
    summary: 'generate a realistic, seeded control-room event stream as NDJSON',
    run: simulateCommand,
  },
};
