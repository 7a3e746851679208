import {
  type CommandIo,
  DEFAULT_BATCH_ROWS,
  describeStoreTarget,
  integerFlag,
  loadConfig,
  storeTarget,
  UsageError,
} from '@callmon/config';
import { LIVE_TOPIC, parseBrokers } from '@callmon/queue';
import { openStore, type Store } from '@callmon/store';
import type { Logger } from 'pino';
import { DEFAULT_KAFKA_GROUP } from './ingest-command.ts';
import { KafkaIngest } from './kafka-ingest.ts';
import { renderIngestMetrics, serveIngestMetrics } from './kafka-metrics-endpoint.ts';
import { createLog } from './log.ts';
import { startParseWorkers } from './parse-workers.ts';
import { emptyCounts, type IngestCounts } from './pipeline.ts';
import { loadPolicy } from './policy-file.ts';
import { systemClock } from './system-clock.ts';

export interface KafkaIngestFlags {
  kafka: string;
  topic: string | undefined;
  group: string | undefined;
  dataDir: string | undefined;
  clickhouse: string | undefined;
  exitWhenIdle: string | undefined;
  policy: string | undefined;
  /** Publish live boards and alerts to the live topic (needs `hooks.publishLive`). */
  publishLive?: boolean;
  liveTopic?: string | undefined;
  /** Serve Prometheus metrics on this port (0 = any free one) of the api host. */
  metricsPort?: string | undefined;
}

export interface KafkaIngestHooks {
  /**
   * Start publishing the member's live state (its bus and engines) to the live topic;
   * resolves to the function that flushes and stops it.
   */
  publishLive?: (live: {
    brokers: string;
    topic: string;
    ingest: KafkaIngest;
    log: Logger;
  }) => Promise<() => Promise<void>>;
}

/**
 * `callmon ingest --kafka`: consume the events topic into the store until stopped
 * (SIGTERM/SIGINT: finish the chunk in hand, commit, leave the group) or, with
 * --exit-when-idle, until caught up and idle. 0 when stopped or idle, 1 when Kafka or
 * the store failed (nothing uncommitted is lost: it is read again on the next start).
 */
export async function kafkaIngestCommand(
  flags: KafkaIngestFlags,
  io: CommandIo,
  hooks: KafkaIngestHooks = {},
): Promise<{ exitCode: number; counts: IngestCounts }> {
  try {
    parseBrokers(flags.kafka);
  } catch (error) {
    throw new UsageError(`--kafka: ${(error as Error).message}`);
  }
  if (flags.dataDir !== undefined && flags.clickhouse !== undefined) {
    throw new UsageError('--data-dir and --clickhouse exclude each other: give one store');
  }
  if (flags.liveTopic !== undefined && flags.publishLive !== true) {
    throw new UsageError('--live-topic needs --publish-live');
  }
  if (flags.publishLive === true && hooks.publishLive === undefined) {
    throw new UsageError('--publish-live is not available in this build');
  }
  const metricsPort =
    flags.metricsPort === undefined
      ? undefined
      : integerFlag(flags.metricsPort, 'metrics-port', 0, 65_535);
  const idleMs = flags.exitWhenIdle === undefined ? undefined : secondsFlag(flags.exitWhenIdle);
  const config = loadConfig({
    overrides: {
      dataDir: flags.dataDir,
      clickhouseUrl: flags.clickhouse,
      kafkaBrokers: flags.kafka,
      kafkaTopic: flags.topic,
    },
  });
  const policy = await loadPolicy(flags.policy ?? config.policyFile);
  // A long-running service: its progress (assignments, metrics) is logged at info.
  const log = createLog(config.logLevel, 'ingest');
  const group = flags.group ?? DEFAULT_KAFKA_GROUP;

  const target = storeTarget(config);
  // Started while the store opens, so that they are ready when the first fetch arrives.
  const parser = startParseWorkers('dataDir' in target, config.parseWorkers, 'kafka');
  let store: Store;
  try {
    store = await openStore(target);
  } catch (error) {
    parser?.close();
    // Named without credentials: a URL may carry a user and password.
    io.stderr.write(
      `callmon ingest: cannot open ${describeStoreTarget(config)}: ${(error as Error).message}\n`,
    );
    return { exitCode: 1, counts: emptyCounts() };
  }
  let ingest: KafkaIngest | undefined;
  let stopPublishing: (() => Promise<void>) | undefined;
  let metricsEndpoint: { url: string; close(): Promise<void> } | undefined;
  let failure: unknown;
  let stopAsked = false;
  const stop = () => {
    stopAsked = true;
    void ingest?.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    ingest = await KafkaIngest.start({
      brokers: flags.kafka,
      topic: config.kafkaTopic,
      groupId: group,
      store,
      log,
      clock: systemClock,
      policy,
      batchRows: config.batchRows ?? DEFAULT_BATCH_ROWS.stream,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      ...(parser === undefined ? { parseWorkers: 0 } : { parser }),
      ...(idleMs === undefined ? {} : { idleMs }),
    });
    if (flags.publishLive === true && hooks.publishLive !== undefined) {
      stopPublishing = await hooks.publishLive({
        brokers: flags.kafka,
        topic: flags.liveTopic ?? LIVE_TOPIC,
        ingest,
        log,
      });
    }
    if (metricsPort !== undefined) {
      const running = ingest;
      metricsEndpoint = await serveIngestMetrics(config.apiHost, metricsPort, () =>
        renderIngestMetrics(config.kafkaTopic, running.metrics()),
      );
      io.stderr.write(`callmon ingest: metrics on ${metricsEndpoint.url}\n`);
    }
    if (stopAsked) void ingest.stop();
    io.stderr.write(
      `callmon ingest: consuming ${config.kafkaTopic} as group ${group} into ${store.location}\n`,
    );
    await ingest.done;
  } catch (error) {
    failure = error;
    // A failure before the consumer ran (e.g. the live topic missing): leave the group.
    await ingest?.stop().catch(() => {});
  } finally {
    await metricsEndpoint?.close();
    await stopPublishing?.().catch((error: Error) =>
      io.stderr.write(`callmon ingest: live topic: ${error.message}\n`),
    );
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    await store.close();
  }
  if (ingest !== undefined) log.info(ingest.metrics(), 'kafka ingest stopped');
  const counts = ingest?.counts ?? emptyCounts();
  const reasons = Object.entries(counts.rejectedByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  io.stderr.write(
    `callmon ingest: ${config.kafkaTopic} into ${store.location}: ${counts.accepted} accepted, ` +
      `${counts.duplicates} duplicates, ${counts.conflicts} conflicts, ${counts.rejected} rejected` +
      `${reasons ? ` (${reasons})` : ''} (committed)\n`,
  );
  if (failure !== undefined) {
    const error = failure as Error;
    const where = error.name?.startsWith('KafkaJS') ? `Kafka at ${flags.kafka}: ` : '';
    io.stderr.write(`callmon ingest: ${where}${error.message ?? String(failure)}\n`);
  }
  return { exitCode: failure === undefined ? 0 : 1, counts };
}

/** `--exit-when-idle SECONDS`: a positive number of seconds (fractions allowed), as ms. */
function secondsFlag(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0) || seconds > 86_400) {
    throw new UsageError('--exit-when-idle must be a number of seconds from 0.1 to 86400');
  }
  return Math.max(100, Math.round(seconds * 1000));
}
