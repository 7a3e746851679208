import { apiCommand, tokenCommand } from '@callmon/api';
import { startLivePublisher } from '@callmon/api/live';
import type { CommandIo } from '@callmon/config';
import { ingestCommand, liveCommand } from '@callmon/ingest';
import { simulateCommand } from '@callmon/simulator';
import { kafkaCommand } from './kafka-command.ts';
import { reportCommand } from './report-command.ts';
import { startCommand } from './start-command.ts';

export interface Command {
  summary: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** Every `callmon` subcommand, dispatched to the service that owns it. */
export const COMMANDS: Record<string, Command> = {
  ingest: {
    summary: 'ingest an NDJSON file, or consume the Kafka events topic, into the store',
    // The CLI sees every service: it lends ingest the api's live-topic publisher.
    run: (argv, io) =>
      ingestCommand(argv, io, {
        publishLive: ({ brokers, topic, ingest, log }) =>
          startLivePublisher({
            brokers,
            topic,
            bus: ingest.bus,
            engines: ingest.liveState.live.engines,
            log,
          }),
      }),
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
  kafka: {
    summary: 'kafka init: create the events and breach/snapshot topics (idempotent)',
    run: kafkaCommand,
  },
  api: {
    summary: 'serve the REST API (reports, timelines, audit, data quality, OpenAPI) over the store',
    run: apiCommand,
  },
  token: {
    summary: 'token create: print a signed access token for a role and forces',
    run: tokenCommand,
  },
};
