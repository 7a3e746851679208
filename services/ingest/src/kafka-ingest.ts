import type { Clock, Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import {
  BatchConsumer,
  type ChunkContext,
  type ConsumerMetricsSnapshot,
  createKafka,
  type PartitionChunk,
  type StopReason,
} from '@callmon/queue';
import type { Store } from '@callmon/store';
import type { Logger } from 'pino';
import { KafkaLiveState } from './kafka-live-state.ts';
import { rereadStore } from './kafka-reread.ts';
import { LiveBus } from './live-state.ts';
import { type IngestCounts, IngestPipeline } from './pipeline.ts';

/**
 * The Kafka source of the ingest (the `events.kafka-consumer` job): a consumer-group
 * member on the events topic that puts each offset-aligned chunk of a partition through
 * the pipeline — decode → validate → dedupe → store → evaluate → publish — and lets the
 * consumer commit the chunk's offsets once it is durable. A failing store write is
 * retried with backoff for as long as it fails, the partition paused meanwhile; nothing
 * is committed until it succeeds.
 */

export interface KafkaIngestOptions {
  /** Comma-separated `host:port` list. */
  brokers: string;
  topic: string;
  groupId: string;
  store: Store;
  log: Logger;
  clock: Clock;
  policy: Policy;
  /** How often engine time follows the clock, firing breaches due (default 100 ms). */
  advanceEveryMs?: number;
  /** Where live alerts go (default: a bus of its own). */
  bus?: LiveBus;
  /** Chunk (and store batch) boundaries: multiples of this many offsets. */
  batchRows: number;
  /** Stop once caught up and idle this long (default: run until stopped). */
  idleMs?: number;
  /** How often the metrics are logged (default 10 s). */
  metricsEveryMs?: number;
  /** Longest wait between retries of a failing write (default 5 s). */
  maxBackoffMs?: number;
  /** The consumer's group session timeout (default 30 s). */
  sessionTimeoutMs?: number;
  clientId?: string;
}

/** What the Kafka ingest exposes about itself, for logs, tests and a metrics endpoint. */
export interface KafkaIngestMetrics extends ConsumerMetricsSnapshot {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  rejectedByReason: IngestCounts['rejectedByReason'];
  /** Forces with a live engine here, and how many were restored from the store. */
  liveForces: number;
  restoredForces: number;
  restoredEvents: number;
}

const EMPTY = new Uint8Array(0);

export class KafkaIngest {
  /** Totals over the chunks committed by this run. */
  readonly counts: IngestCounts = {
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    rejectedByReason: {},
  };
  readonly bus: LiveBus;
  readonly liveState: KafkaLiveState;
  private consumer: BatchConsumer<IngestCounts> | undefined;
  private finished: Promise<StopReason> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(private readonly options: KafkaIngestOptions) {
    this.bus = options.bus ?? new LiveBus();
    this.liveState = new KafkaLiveState({
      store: options.store,
      policy: options.policy,
      bus: this.bus,
      clock: options.clock,
      log: options.log,
    });
  }

  static async start(options: KafkaIngestOptions): Promise<KafkaIngest> {
    const ingest = new KafkaIngest(options);
    const kafka = createKafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'callmon-ingest',
    });
    ingest.consumer = await BatchConsumer.start({
      kafka,
      groupId: options.groupId,
      topic: options.topic,
      chunkMessages: options.batchRows,
      handle: (chunk, context) => ingest.ingestChunk(chunk, context),
      onCommitted: (_chunk, counts) => ingest.add(counts),
      onAssignment: (partitions) => ingest.liveState.assigned(partitions),
      log: options.log,
      ...(options.idleMs === undefined ? {} : { idleMs: options.idleMs }),
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      ...(options.sessionTimeoutMs === undefined
        ? {}
        : { sessionTimeoutMs: options.sessionTimeoutMs }),
      now: () => options.clock.now(),
    });
    ingest.timers.push(
      // Deadlines pass on the wall clock: a ringing 999 call's breach is due at +10 s
      // whether or not another event arrives, so engine time moves every tick. A tick
      // costs a heap peek per force when nothing is due; 100 ms keeps a breach within
      // ~0.1 s of its deadline (1 s ticks made it up to a second late).
      setInterval(() => ingest.liveState.advance(), options.advanceEveryMs ?? 100),
      setInterval(
        () => options.log.info(ingest.metrics(), 'kafka ingest metrics'),
        options.metricsEveryMs ?? 10_000,
      ),
    );
    for (const timer of ingest.timers) timer.unref();
    ingest.finished = ingest.consumer.done.finally(() => {
      for (const timer of ingest.timers) clearInterval(timer);
    });
    ingest.finished.catch(() => {}); // the caller may only ever await stop()
    return ingest;
  }

  /** Resolves when the consumer has left the group (`idle` or `stopped`); rejects on a fatal error. */
  get done(): Promise<StopReason> {
    return this.finished!;
  }

  /** Finish the chunk in hand, commit it, leave the group. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  metrics(): KafkaIngestMetrics {
    const { accepted, duplicates, conflicts, rejected, rejectedByReason } = this.counts;
    return {
      ...this.consumer!.metrics.snapshot(),
      accepted,
      duplicates,
      conflicts,
      rejected,
      rejectedByReason: { ...rejectedByReason },
      liveForces: this.liveState.live.engines.size,
      restoredForces: this.liveState.restoredForces,
      restoredEvents: this.liveState.restoredEvents,
    };
  }

  /**
   * One chunk is one store batch: its token names the topic, partition and offset range
   * (and hashes the bytes), so a chunk read again after a crash is the same insert — and
   * `rereadStore` makes sure it holds the same rows.
   */
  private async ingestChunk(chunk: PartitionChunk, context: ChunkContext): Promise<IngestCounts> {
    const { store, log, clock } = this.options;
    const durable: CallmonEvent[] = [];
    const pipeline = new IngestPipeline({
      store: chunk.reread ? rereadStore(store, chunk) : store,
      log,
      clock,
      batchRows: chunk.messages.length,
      // Retried until it succeeds: the consumer holds the partition meanwhile.
      maxRetries: Number.POSITIVE_INFINITY,
      sleep: context.backoff,
      onDurable: (events) => {
        for (const event of events) durable.push(event);
      },
    });
    const arrivedAt = clock.now();
    for (const message of chunk.messages) {
      await pipeline.offer({
        bytes: message.value ?? EMPTY,
        position: {
          kind: 'kafka',
          name: chunk.topic,
          partition: chunk.partition,
          offset: Number(message.offset),
        },
        arrivedAt,
      });
    }
    await pipeline.flush();
    await this.liveState.apply(chunk.partition, durable, context.backoff);
    return pipeline.counts;
  }

  private add(chunk: IngestCounts): void {
    const counts = this.counts;
    counts.accepted += chunk.accepted;
    counts.duplicates += chunk.duplicates;
    counts.conflicts += chunk.conflicts;
    counts.rejected += chunk.rejected;
    for (const [reason, count] of Object.entries(chunk.rejectedByReason)) {
      const key = reason as keyof IngestCounts['rejectedByReason'];
      counts.rejectedByReason[key] = (counts.rejectedByReason[key] ?? 0) + count;
    }
  }
}
