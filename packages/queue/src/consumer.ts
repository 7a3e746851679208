import type {
  Admin,
  Consumer,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
  PartitionOffset,
} from 'kafkajs';
import { offsetAlignedChunks } from './consumer-chunks.ts';
import { ConsumerMetrics } from './consumer-metrics.ts';
import { TopicMissingError } from './producer.ts';

/**
 * A consumer-group member that hands a handler one partition's messages at a time, in
 * offset-aligned chunks, and commits a chunk's offsets only once the handler says it is
 * durable. Chunks of a partition are handled one after another, each committed before
 * the next starts, so what is committed is always a contiguous prefix of the partition
 * (kafkajs's `resolveOffset` is last-write-wins: resolving out of order would move the
 * fetch position backwards). While a chunk's write fails, the handler waits through
 * {@link ChunkContext.backoff}: the partition is paused, nothing more is fetched or
 * committed, the group membership is kept alive, and the time is counted as
 * backpressure. Before a chunk is handled, its range is committed as metadata at the
 * offset already committed: a member that reads the partition after a crash cuts that
 * chunk again exactly, and hands it over marked `reread`.
 */

export interface PartitionChunk {
  topic: string;
  partition: number;
  /** Consecutive messages of one partition, ascending; never empty. */
  messages: KafkaMessage[];
  /**
   * A member began this very chunk and stopped before committing it (a crash, a kill):
   * it may be written already, wholly or in part. The handler must then make exactly the
   * writes it would have made the first time, so that the store's insert deduplication
   * drops whatever did arrive.
   */
  reread: boolean;
}

export interface ChunkContext {
  /**
   * Wait before retrying a failed write of this chunk (capped at `maxBackoffMs`). Throws
   * {@link ConsumerStoppingError} when the consumer is stopping, or the group's error
   * when it is rebalancing: the chunk is then left uncommitted, to be read again.
   */
  backoff(ms: number): Promise<void>;
}

/** The subset of a pino logger the consumer writes to. */
export interface ConsumerLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface BatchConsumerOptions<R = void> {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** Where a group with no committed offset starts (default: the beginning). */
  fromBeginning?: boolean;
  /** Chunk boundaries fall on multiples of this many offsets. */
  chunkMessages: number;
  /**
   * Partitions whose chunks may be handled at the same time (default 1). Each partition's
   * chunks are still handled and committed one after another; `handle` must then cope
   * with calls for other partitions while one is pending.
   */
  partitionsAtOnce?: number;
  /** Make a chunk durable; resolves once it is, throws to stop the consumer (nothing committed). */
  handle(chunk: PartitionChunk, context: ChunkContext): Promise<R>;
  /** A chunk's offsets are committed: what `handle` resolved with may now be counted. */
  onCommitted?(chunk: PartitionChunk, result: R): void;
  /** The partitions of the topic this member owns now, after every (re)join. */
  onAssignment?(partitions: readonly number[]): void;
  log: ConsumerLog;
  /** Stop once caught up and no message arrived for this long (default: never). */
  idleMs?: number;
  /** Longest wait between retries of a failing chunk (default 5000). */
  maxBackoffMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Broker long-poll wait of a fetch (default 500; kafkajs's 5000 makes a slow trickle slower). */
  maxWaitTimeMs?: number;
  /** Bytes fetched per partition at most: with one chunk in hand, the memory bound. */
  maxBytesPerPartition?: number;
  now?: () => number;
}

export type StopReason = 'idle' | 'stopped';

/** The chunk a member had begun when it last committed: see {@link BatchConsumer}. */
interface ChunkIntent {
  first: string;
  last: string;
}

const INTENT_PREFIX = 'callmon-chunk:';

function parseIntent(metadata: string | null | undefined): ChunkIntent | undefined {
  const match = metadata?.startsWith(INTENT_PREFIX)
    ? /^(\d+)-(\d+)$/.exec(metadata.slice(INTENT_PREFIX.length))
    : null;
  return match ? { first: match[1]!, last: match[2]! } : undefined;
}

export class ConsumerStoppingError extends Error {
  override readonly name = 'ConsumerStoppingError';
}

export class BatchConsumer<R = void> {
  readonly metrics: ConsumerMetrics;
  /** Resolves when the consumer has left the group; rejects with the handler's fatal error. */
  readonly done: Promise<StopReason>;
  private settle!: { resolve: (reason: StopReason) => void; reject: (error: unknown) => void };
  private stopping: Promise<void> | undefined;
  private stopReason: StopReason = 'stopped';
  private failure: unknown;
  /** Partitions whose fetched messages are being handled. */
  private busy = 0;
  private joined = false;
  private assignedPartitions: number[] = [];
  private lastActivity: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Per partition, the chunk begun and not committed, read once after each (re)join. */
  private intents: Promise<Map<number, ChunkIntent>> | undefined;
  private heartbeatMs = 3000;

  private constructor(
    private readonly consumer: Consumer,
    private readonly admin: Admin,
    private readonly options: BatchConsumerOptions<R>,
  ) {
    this.now = options.now ?? Date.now;
    this.metrics = new ConsumerMetrics(this.now);
    this.lastActivity = this.now();
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A caller that only awaits stop() must not see an unhandled rejection.
    this.done.catch(() => {});
  }

  /**
   * Check the topic exists (a missing topic is an error naming it, not an endless wait),
   * join the group and start consuming.
   */
  static async start<R>(options: BatchConsumerOptions<R>): Promise<BatchConsumer<R>> {
    const { kafka, topic } = options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        throw new TopicMissingError(
          `Kafka topic "${topic}" does not exist (create it with \`callmon kafka init\`)`,
        );
      }
    } catch (error) {
      await admin.disconnect();
      throw error;
    }
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    // Kafka wants heartbeats well within the session: a third of it at most.
    const heartbeatInterval =
      options.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeout / 3));
    const maxBytesPerPartition = options.maxBytesPerPartition ?? 4 * 1024 * 1024;
    let member: BatchConsumer<R> | undefined;
    const consumer = kafka.consumer({
      groupId: options.groupId,
      // kafkajs may report a crash while (or after) the consumer is being disconnected and
      // then schedule a restart that rejoins the group: never once a stop has begun.
      retry: { restartOnFailure: async () => member?.stopping === undefined },
      sessionTimeout,
      heartbeatInterval,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
      maxBytesPerPartition,
      maxBytes: 4 * maxBytesPerPartition,
    });
    member = new BatchConsumer(consumer, admin, options);
    member.heartbeatMs = heartbeatInterval;
    member.listen();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsAtOnce ?? 1,
        eachBatch: (payload) => member.consume(payload),
      });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      throw error;
    }
    if (options.idleMs !== undefined) member.watchIdle(options.idleMs);
    return member;
  }

  /** Finish the chunk in hand, commit it, leave the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.idleTimer !== undefined) clearInterval(this.idleTimer);
      try {
        // kafkajs waits for the running eachBatch, then sends LeaveGroup.
        await this.consumer.disconnect();
        await this.admin.disconnect();
      } catch (error) {
        this.options.log.warn({ err: error }, 'Kafka disconnect failed');
      }
      if (this.failure !== undefined) this.settle.reject(this.failure);
      else this.settle.resolve(this.stopReason);
    })();
    return this.stopping;
  }

  private listen(): void {
    const { consumer, options } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const partitions = [...(event.payload.memberAssignment[options.topic] ?? [])].sort(
        (a, b) => a - b,
      );
      this.joined = true;
      this.assignedPartitions = partitions;
      this.lastActivity = this.now();
      this.intents = undefined;
      this.metrics.assigned(partitions);
      options.log.info(
        { topic: options.topic, group: options.groupId, partitions },
        'partitions assigned',
      );
      options.onAssignment?.(partitions);
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      options.log.error({ err: error, restart }, 'Kafka consumer crashed');
      if (!restart) this.fail(error);
    });
  }

  private watchIdle(idleMs: number): void {
    // The group may have failed already (kafkajs reports a failed join as a crash, after
    // run() has returned): a timer started then would keep the process alive for ever.
    if (this.stopping !== undefined) return;
    let confirming = false;
    this.idleTimer = setInterval(
      () => {
        if (this.stopping !== undefined || this.busy > 0 || !this.joined || confirming) return;
        if (this.now() - this.lastActivity < idleMs || !this.metrics.caughtUp()) return;
        confirming = true;
        void this.committedToEnd()
          .then((caughtUp) => {
            if (!caughtUp || this.stopping !== undefined || this.busy > 0) return;
            if (this.now() - this.lastActivity < idleMs) return;
            this.options.log.info({ idleMs }, 'caught up and idle; stopping');
            this.stopReason = 'idle';
            void this.stop();
          })
          .finally(() => {
            confirming = false;
          });
      },
      Math.min(250, idleMs),
    );
  }

  /**
   * The broker's word that every partition this member holds is committed to its end. The
   * member's own figures cannot say so for a partition it has fetched nothing from (e.g. the
   * broker went away right after the assignment): idle is not the same as caught up.
   */
  private async committedToEnd(): Promise<boolean> {
    const { topic, groupId } = this.options;
    try {
      const ends = await this.admin.fetchTopicOffsets(topic);
      const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
      const committedAt = new Map(
        (committed?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]),
      );
      return this.assignedPartitions.every((partition) => {
        const end = ends.find((candidate) => candidate.partition === partition);
        if (end === undefined) return false;
        const high = BigInt(end.high);
        // No commit yet (-1): caught up only if the partition holds nothing to read.
        const next = committedAt.get(partition) ?? -1n;
        return next < 0n ? BigInt(end.low) >= high : next >= high;
      });
    } catch (error) {
      this.options.log.warn(
        { err: error },
        'could not confirm with Kafka that the partitions are caught up; not stopping yet',
      );
      return false;
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.options.log.error({ err: error }, 'chunk failed; stopping without committing it');
    void this.stop();
  }

  private async consume(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } =
      payload;
    if (this.stopping !== undefined || this.failure !== undefined) return;
    this.busy++;
    this.lastActivity = this.now();
    this.metrics.fetched(batch.partition, batch.highWatermark);
    const { topic, partition } = batch;
    try {
      const chunks = await this.chunksOf(batch.partition, batch.messages);
      for (const [index, { messages, reread }] of chunks.entries()) {
        if (this.stopping !== undefined || !isRunning() || isStale()) break;
        const started = this.now();
        const chunk: PartitionChunk = { topic, partition, messages, reread };
        const first = messages[0]!.offset;
        // Say which chunk is begun before writing it (the committed offset does not move),
        // so that whoever reads the partition next after a crash cuts the same chunk.
        const intent = `${INTENT_PREFIX}${first}-${messages.at(-1)!.offset}`;
        await commitOffsetsIfNecessary(offsetAt(topic, partition, first, intent));
        const outcome = await this.handleChunk(chunk, heartbeat);
        if (outcome === ABANDONED) break;
        // The final chunk commits past the batch's end, which may be a transaction
        // marker kafkajs filtered out of `messages`.
        const last = index === chunks.length - 1 ? batch.lastOffset() : messages.at(-1)!.offset;
        const next = (BigInt(last) + 1n).toString();
        // Through the batch's own commit: `consumer.commitOffsets` silently does nothing
        // once a stop has begun, and a stop must commit the chunk it let finish.
        await commitOffsetsIfNecessary(offsetAt(topic, partition, next, null));
        resolveOffset(last);
        this.options.onCommitted?.(chunk, outcome.result);
        this.metrics.committed(batch.partition, next, messages.length, this.now() - started);
        this.options.log.debug(
          {
            topic: batch.topic,
            partition: batch.partition,
            first: messages[0]!.offset,
            last,
            messages: messages.length,
          },
          'chunk committed',
        );
        await heartbeat();
      }
    } finally {
      this.busy--;
      this.lastActivity = this.now();
    }
  }

  /**
   * Offset-aligned chunks, except that a chunk begun by an earlier member and not
   * committed is cut again exactly as it was, whatever the fetch around it now holds.
   */
  private async chunksOf(
    partition: number,
    messages: KafkaMessage[],
  ): Promise<{ messages: KafkaMessage[]; reread: boolean }[]> {
    const size = this.options.chunkMessages;
    this.intents ??= this.readIntents();
    const intents = await this.intents;
    const intent = intents.get(partition);
    intents.delete(partition);
    if (intent === undefined || messages[0]?.offset !== intent.first) {
      return offsetAlignedChunks(messages, size).map((chunk) => ({
        messages: chunk,
        reread: false,
      }));
    }
    const last = BigInt(intent.last);
    const begun = messages.filter((message) => BigInt(message.offset) <= last);
    const rest = messages.slice(begun.length);
    this.options.log.info(
      { topic: this.options.topic, partition, first: intent.first, last: intent.last },
      'reading again a chunk begun and not committed',
    );
    return [
      { messages: begun, reread: true },
      ...offsetAlignedChunks(rest, size).map((chunk) => ({ messages: chunk, reread: false })),
    ];
  }

  private async readIntents(): Promise<Map<number, ChunkIntent>> {
    const { groupId, topic } = this.options;
    const [offsets] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const intents = new Map<number, ChunkIntent>();
    for (const { partition, metadata } of offsets?.partitions ?? []) {
      const intent = parseIntent(metadata);
      if (intent !== undefined) intents.set(partition, intent);
    }
    return intents;
  }

  /** The handler's result once durable, or ABANDONED (stopping, or a fatal error). */
  private async handleChunk(
    chunk: PartitionChunk,
    heartbeat: () => Promise<void>,
  ): Promise<{ result: R } | typeof ABANDONED> {
    const { topic, partition } = chunk;
    // A slow write must not cost the group membership: kafkajs only heartbeats between batches.
    const beating = setInterval(() => heartbeat().catch(() => {}), this.heartbeatMs);
    let paused = false;
    const context: ChunkContext = {
      backoff: async (ms) => {
        this.metrics.writeFailed();
        if (!paused) {
          paused = true;
          this.consumer.pause([{ topic, partitions: [partition] }]);
          this.metrics.paused(partition);
        }
        const until = this.now() + Math.min(ms, this.options.maxBackoffMs ?? 5000);
        for (;;) {
          if (this.stopping !== undefined) {
            throw new ConsumerStoppingError('consumer stopping; chunk left uncommitted');
          }
          const left = until - this.now();
          if (left <= 0) return;
          await sleep(Math.min(left, 250));
          await heartbeat();
        }
      },
    };
    try {
      return { result: await this.options.handle(chunk, context) };
    } catch (error) {
      if (error instanceof ConsumerStoppingError) return ABANDONED;
      // The group is rebalancing (or this member was fenced): kafkajs rejoins, and the
      // chunk, left uncommitted, is read again by whoever owns the partition then.
      if ((error as Error).name?.startsWith('KafkaJS')) throw error;
      this.fail(error);
      return ABANDONED;
    } finally {
      clearInterval(beating);
      if (paused) {
        this.consumer.resume([{ topic, partitions: [partition] }]);
        this.metrics.resumed(partition);
      }
    }
  }
}

const ABANDONED = Symbol('abandoned');

/**
 * One partition's offset with its metadata, for the batch's `commitOffsetsIfNecessary`:
 * kafkajs sends the metadata (OffsetCommit v2+) though its typings leave it out.
 */
function offsetAt(topic: string, partition: number, offset: string, metadata: string | null) {
  const committed = { partition, offset, metadata } as PartitionOffset;
  return { topics: [{ topic, partitions: [committed] }] };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
