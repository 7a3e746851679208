import type { Clock, Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import {
  BatchConsumer,
  type ChunkContext,
  type ConsumerMetricsSnapshot,
  copyMessageValue,
  createKafka,
  messageOffset,
  messageValueLength,
  type PartitionChunk,
  type StopReason,
} from '@callmon/queue';
import type { Store } from '@callmon/store';
import type { Logger } from 'pino';
import { KafkaLiveState, type UnappliedIds } from './kafka-live-state.ts';
import { rereadStore } from './kafka-reread.ts';
import { LiveBus } from './live-state.ts';
import type { LineBatch } from './ndjson-source.ts';
import { type ParseWorkers, parseHere, startParseWorkers } from './parse-workers.ts';
import {
  addCounts,
  emptyCounts,
  type IngestCounts,
  IngestPipeline,
  type LineSource,
} from './pipeline.ts';

/**
 * The Kafka source of the ingest (the `events.kafka-consumer` job): a consumer-group
 * member on the events topic that puts each offset-aligned chunk of a partition through
 * the pipeline — decode → validate → dedupe → store → evaluate → publish, the evaluation
 * as soon as the chunk is decided, alongside its write — and lets the consumer commit the
 * chunk's offsets once it is durable. A failing store write is
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
  /**
   * Worker threads that parse, fingerprint and encode the chunks (embedded store only;
   * default: one where there are two CPUs or more, see `parseWorkerCount`; 0 does the same
   * work on this thread). The scan's results come back and the live engine's events are
   * built here.
   */
  parseWorkers?: number;
  /**
   * Parse workers started already (the command starts them while the store opens, so that
   * they are ready for the first fetch), instead of `parseWorkers` started here; embedded
   * store only. The ingest closes them when it stops.
   */
  parser?: ParseWorkers;
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

const NEWLINE = 0x0a;

/**
 * Partitions whose chunks are handled at once. One pipeline takes every chunk, so that
 * a chunk is validated (this thread) while the one before is written (the engine's
 * threads) and duplicates across partitions are still decided first copy first; each
 * partition still commits its chunks one after another, a contiguous prefix.
 */
const PARTITIONS_AT_ONCE = 4;

export class KafkaIngest {
  /** Totals over the chunks committed by this run. */
  readonly counts: IngestCounts = emptyCounts();
  readonly bus: LiveBus;
  readonly liveState: KafkaLiveState;
  private consumer: BatchConsumer<IngestCounts> | undefined;
  private finished: Promise<StopReason> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Every chunk goes through this one pipeline, in the order the chunks are handed over. */
  private readonly pipeline: IngestPipeline;
  private readonly parser: ParseWorkers | undefined;
  /** The last chunk's live update: chunks reach the live engines in pipeline order. */
  private applying: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: KafkaIngestOptions) {
    if (options.parser !== undefined && options.store.mode !== 'embedded') {
      throw new Error('parse workers encode rows for the embedded store only');
    }
    this.parser =
      options.parser ??
      startParseWorkers(options.store.mode === 'embedded', options.parseWorkers, 'kafka');
    // Embedded, a chunk is parsed and encoded as the parse workers do it, on this thread
    // unless workers are asked for: plain lines go from their bytes to their rows, and
    // their events (for the live engine) are built from the same scan.
    const parser = this.parser ?? (options.store.mode === 'embedded' ? parseHere : undefined);
    this.pipeline = new IngestPipeline({
      ...(parser === undefined ? {} : { parser }),
      store: options.store,
      log: options.log,
      clock: options.clock,
      batchRows: options.batchRows,
      // Retried until it succeeds (or the chunk's backoff gives up): the consumer holds
      // the partition meanwhile.
      maxRetries: Number.POSITIVE_INFINITY,
    });
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
    try {
      ingest.consumer = await BatchConsumer.start({
        kafka,
        groupId: options.groupId,
        topic: options.topic,
        chunkMessages: options.batchRows,
        partitionsAtOnce: PARTITIONS_AT_ONCE,
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
    } catch (error) {
      ingest.parser?.close();
      throw error;
    }
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
      ingest.parser?.close();
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
  private ingestChunk(chunk: PartitionChunk, context: ChunkContext): Promise<IngestCounts> {
    const { store, clock } = this.options;
    // The values copied back to back, one newline apart, as lines of a file lie: the
    // batch goes to the parser as one buffer with no object per message, the token hashes
    // it in one call, and kafkajs's fetch buffers are not held by the batch.
    const { messages } = chunk;
    let size = 0;
    for (const message of messages) size += messageValueLength(message) + 1;
    // Its own memory (not a slice of Node's shared pool): the parser may take it whole.
    const bytes = Buffer.allocUnsafeSlow(size);
    const starts = new Int32Array(messages.length);
    const ends = new Int32Array(messages.length);
    const offsets = new Float64Array(messages.length);
    let at = 0;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      starts[index] = at;
      at += copyMessageValue(message, bytes, at);
      ends[index] = at;
      offsets[index] = messageOffset(message);
      bytes[at++] = NEWLINE;
    }
    const lines: LineBatch = {
      bytes,
      starts,
      ends,
      numbers: offsets,
      bytesRead: size,
      linesRead: messages.length,
    };
    const source: LineSource = {
      kind: 'kafka',
      name: chunk.topic,
      partition: chunk.partition,
      arrivedAt: clock.now(),
    };
    let onDecided!: (events: CallmonEvent[]) => void;
    let unapplied: UnappliedIds = [];
    const decided = new Promise<CallmonEvent[]>((resolve) => {
      onDecided = (events) => {
        unapplied = this.liveState.decided(events);
        resolve(events);
      };
    });
    const durable = this.pipeline.submitLines(lines, source, {
      store: chunk.reread ? rereadStore(store, chunk) : store,
      verifyStored: chunk.reread,
      sleep: context.backoff,
      onDecided,
      liveFrom: () => this.liveState.liveFrom(),
    });
    durable.catch(() => {}); // awaited below, maybe only after it failed
    // Evaluate as soon as the chunk is decided, not once it is stored: the write (tens of
    // milliseconds even for a few events) is not on the way from an event to its breach.
    // Nothing is lost by it: the offsets are still committed only once the chunk is
    // durable; a chunk that fails is read and decided again, and the engines admit an
    // event id once. After the chunks handed over before it, so that the live engines see
    // the pipeline's order.
    const applied = this.applying
      .then(async () => {
        // A chunk is decided before it is written; one that fails first fails here too.
        const events = await Promise.race([decided, durable.then(() => decided)]);
        await this.liveState.apply(chunk.partition, events, context.backoff, durable, {
          topic: chunk.topic,
          offset: Number(chunk.messages[0]!.offset),
          arrivedAt: source.arrivedAt,
        });
      })
      .finally(() => this.liveState.settled(unapplied));
    this.applying = applied.catch(() => {});
    // Handled once applied and durable, whichever comes last.
    return applied.then(async () => (await durable).counts);
  }

  private add(chunk: IngestCounts): void {
    addCounts(this.counts, chunk);
  }
}
