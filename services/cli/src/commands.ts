import type { CommandIo } from '@callmon/config';

export interface Command {
  summary: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}

/**
 * Every `callmon` subcommand, dispatched to the service that owns it. Each service is
 * loaded only when its command runs: an ingest need not load the web server and the
 * dashboard (start-up is part of every short command's time).
 */
export const COMMANDS: Record<string, Command> = {
  ingest: {
    summary: 'ingest an NDJSON file, or consume the Kafka events topic, into the store',
    run: async (argv, io) => {
      // Only the command's own module: a file ingest loads no Kafka client.
      const { ingestCommand } = await import('@callmon/ingest/command');
      return ingestCommand(argv, io, {
        // The CLI sees every service: it lends ingest the api's live-topic publisher.
        publishLive: async ({ brokers, topic, ingest, log }) => {
          const { startLivePublisher } = await import('@callmon/api/live');
          return startLivePublisher({
            brokers,
            topic,
            bus: ingest.bus,
            engines: ingest.liveState.live.engines,
            log,
          });
        },
      });
    },
  },
  live: {
    summary: 'replay an NDJSON file through the live engine and print the snapshot as of a time',
    run: async (argv, io) => (await import('@callmon/ingest')).liveCommand(argv, io),
  },
  start: {
    summary:
      'run the embedded all-in-one: simulator → ingest → store → live engine, with a terminal view',
    run: async (argv, io) => (await import('./start-command.ts')).startCommand(argv, io),
  },
  report: {
    summary: 'print a weekly report (json, csv or html) from the stored events',
    run: async (argv, io) => (await import('./report-command.ts')).reportCommand(argv, io),
  },
  simulate: {
    summary: 'generate a realistic, seeded control-room event stream as NDJSON',
    run: async (argv, io) => (await import('@callmon/simulator')).simulateCommand(argv, io),
  },
  kafka: {
    summary: 'kafka init: create the events and breach/snapshot topics (idempotent)',
    run: async (argv, io) => (await import('./kafka-command.ts')).kafkaCommand(argv, io),
  },
  api: {
    summary: 'serve the REST API (reports, timelines, audit, data quality, OpenAPI) over the store',
    run: async (argv, io) => (await import('@callmon/api')).apiCommand(argv, io),
  },
  token: {
    summary: 'token create: print a signed access token for a role and forces',
    run: async (argv, io) => (await import('@callmon/api')).tokenCommand(argv, io),
  },
};
