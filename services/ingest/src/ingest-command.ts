/**
 * `callmon ingest`. Also the package's `@callmon/ingest/command` entry, which the CLI
 * imports instead of the whole package: a file ingest then loads no Kafka client
 * (`kafka-ingest-command.ts` is imported only for `--kafka`).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type CommandIo,
  choiceFlag,
  DEFAULT_BATCH_ROWS,
  loadConfig,
  parseFlags,
  required,
  storeTarget,
  UsageError,
} from '@callmon/config';
import { openStore } from '@callmon/store';
import type { KafkaIngestHooks } from './kafka-ingest-command.ts';
import { createLog } from './log.ts';
import { openNdjson, readNdjsonBatches } from './ndjson-source.ts';
import { startParseWorkers } from './parse-workers.ts';
import { type IngestCounts, IngestPipeline } from './pipeline.ts';
import { Progress } from './progress.ts';
import { systemClock } from './system-clock.ts';
import { FileWriteJournal, WRITE_JOURNAL_FILE } from './write-journal.ts';

/** The consumer group of `--kafka` without `--group`. */
export const DEFAULT_KAFKA_GROUP = 'callmon-ingest';

export const INGEST_HELP = `Usage: callmon ingest --file PATH|- [--data-dir DIR] [--summary json]
       callmon ingest --kafka BROKERS [--topic T] [--group G] [--data-dir DIR | --clickhouse URL]
                      [--exit-when-idle SECONDS] [--policy FILE] [--publish-live [--live-topic T]]
                      [--metrics-port P] [--summary json]

Ingest events (docs/events.md) into the store: an NDJSON file, then exit; or the Kafka
events topic as a consumer-group member, until stopped (SIGTERM/SIGINT: the chunk in
hand is finished and committed, then the member leaves the group) or idle. Every input is
accounted for: accepted, duplicate (same id, same content as an event already stored),
conflict (same id, other content) or rejected with a reason; rejected inputs, duplicates
and conflicts are stored with their reason and position (line, or topic/partition/offset)
for audit. Blank lines are skipped. Ingesting the same input again accepts nothing new.
Kafka offsets are committed only once their events are durable in the store.

Options:
  --file PATH|-             NDJSON events (- for standard input)
  --kafka BROKERS           host:port[,host:port…]: consume the events topic instead
  --topic T                 the events topic (default callmon.events.v1, env CALLMON_KAFKA_TOPIC)
  --group G                 consumer group (default ${DEFAULT_KAFKA_GROUP})
  --exit-when-idle SECONDS  with --kafka: exit 0 once caught up and idle this long
  --policy FILE             with --kafka: force policy file for the live engine (JSON)
  --publish-live            with --kafka: publish the live boards (each second) and every
                            breach and clear to the live topic, for \`callmon api --kafka\`
  --live-topic T            the live topic (default callmon.live.v1)
  --metrics-port P          with --kafka: serve Prometheus metrics (lag, chunk size and
                            latency, backpressure, outcomes) at http://HOST:P/metrics
                            (HOST: CALLMON_API_HOST, default 127.0.0.1; 0 = any free port)
  --data-dir DIR            embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --clickhouse URL          a ClickHouse server (http://host:8123, env CLICKHOUSE_URL)
                            instead of the embedded store
  --summary json            print {"accepted":N,"duplicates":N,"conflicts":N,"rejected":N}
                            as the last line of standard output (with --kafka: for the
                            chunks this run committed)
  --help                    this text
`;

export function summaryLine(counts: IngestCounts): string {
  return JSON.stringify({
    accepted: counts.accepted,
    duplicates: counts.duplicates,
    conflicts: counts.conflicts,
    rejected: counts.rejected,
  });
}

/**
 * `hooks` are how the CLI, which sees every service, adds what this service must not
 * depend on itself (the live topic's board format belongs to the api).
 */
export async function ingestCommand(
  argv: string[],
  io: CommandIo,
  hooks: KafkaIngestHooks = {},
): Promise<number> {
  const { values } = parseFlags(argv, {
    file: { type: 'string' },
    kafka: { type: 'string' },
    'publish-live': { type: 'boolean' },
    'live-topic': { type: 'string' },
    'metrics-port': { type: 'string' },
    topic: { type: 'string' },
    group: { type: 'string' },
    'exit-when-idle': { type: 'string' },
    policy: { type: 'string' },
    'data-dir': { type: 'string' },
    clickhouse: { type: 'string' },
    summary: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(INGEST_HELP);
    return 0;
  }
  if (values.summary !== undefined) choiceFlag(values.summary, 'summary', ['json'] as const);
  if (values.kafka !== undefined) {
    if (values.file !== undefined) {
      throw new UsageError('--file and --kafka exclude each other: give one source');
    }
    // Loaded only for Kafka: a file ingest need not load the Kafka client (≈ 0.1 s).
    const { kafkaIngestCommand } = await import('./kafka-ingest-command.ts');
    const { exitCode, counts } = await kafkaIngestCommand(
      {
        kafka: values.kafka,
        topic: values.topic,
        group: values.group,
        dataDir: values['data-dir'],
        clickhouse: values.clickhouse,
        exitWhenIdle: values['exit-when-idle'],
        policy: values.policy,
        publishLive: values['publish-live'] === true,
        liveTopic: values['live-topic'],
        metricsPort: values['metrics-port'],
      },
      io,
      hooks,
    );
    if (values.summary === 'json') io.stdout.write(`${summaryLine(counts)}\n`);
    return exitCode;
  }
  for (const flag of [
    'topic',
    'group',
    'exit-when-idle',
    'policy',
    'publish-live',
    'live-topic',
    'metrics-port',
  ] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --kafka`);
  }
  if (values.file === undefined) throw new UsageError('--file or --kafka is required');
  const file = required(values.file, 'file');
  const config = loadConfig({
    overrides: { dataDir: values['data-dir'], clickhouseUrl: values.clickhouse },
  });
  const log = createLog(config.logLevel === 'info' ? 'warn' : config.logLevel, 'ingest');
  const size = file === '-' ? undefined : (await stat(file)).size;
  const source = file === '-' ? 'stdin' : resolve(file);

  const target = storeTarget(config);
  // Parsing on worker threads needs the embedded store's batch files (RowBinary rows).
  // The file is read and parsed while the store opens (≈ 0.6 s for a fresh embedded
  // store); the first batch's look-up waits for it.
  const parser = startParseWorkers('dataDir' in target, config.parseWorkers, 'file');
  const opening = openStore(target);
  // Awaited by the pipeline, and below; a failure is thrown from there.
  opening.catch(() => {});
  const batchRows = config.batchRows ?? DEFAULT_BATCH_ROWS.file;
  // Embedded only: a replicated server table logs a token with its part, atomically.
  const writeJournal =
    'dataDir' in target
      ? new FileWriteJournal(join(target.dataDir, WRITE_JOURNAL_FILE))
      : undefined;
  if (writeJournal !== undefined && writeJournal.leftOver.length > 0) {
    log.warn(
      { batches: writeJournal.leftOver.length },
      'an earlier ingest stopped while writing; its batches are checked when this run writes them',
    );
  }
  const pipeline = new IngestPipeline({
    store: opening,
    log,
    clock: systemClock,
    batchRows,
    ...(parser === undefined ? {} : { parser, maxBatchesInFlight: parser.count + 2 }),
    ...(writeJournal === undefined ? {} : { writeJournal }),
  });
  const progress = new Progress(process.stderr, size);
  let lines = 0;
  const began = performance.now();
  try {
    // One buffer per store batch: the lines go to the parse workers as they were read.
    for await (const batch of readNdjsonBatches(openNdjson(file), batchRows)) {
      lines += batch.starts.length;
      const full = pipeline.addLines(batch, {
        kind: 'file',
        name: source,
        partition: 0,
        arrivedAt: systemClock.now(),
      });
      if (full !== undefined) await full;
      progress.update(batch.bytesRead, lines);
    }
    await pipeline.flush();
  } finally {
    progress.done();
    parser?.close();
    await (await opening.catch(() => undefined))?.close();
  }
  // Opened, or the error of its opening (the batches' failure is that same error).
  const store = await opening;
  const counts = pipeline.counts;
  const reasons = Object.entries(counts.rejectedByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const seconds = (performance.now() - began) / 1000;
  io.stderr.write(
    `callmon ingest: ${lines} lines from ${source} into ${store.location}: ${counts.accepted} accepted, ` +
      `${counts.duplicates} duplicates, ${counts.conflicts} conflicts, ${counts.rejected} rejected` +
      `${reasons ? ` (${reasons})` : ''}; ${seconds.toFixed(1)} s, ${Math.round(lines / Math.max(seconds, 0.001))} lines/s\n`,
  );
  if (values.summary === 'json') io.stdout.write(`${summaryLine(counts)}\n`);
  return 0;
}
