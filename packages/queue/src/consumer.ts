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
 * durable and every chunk before it in the partition is committed, so what is committed
 * is always a contiguous prefix of the partition. Up to two chunks of a partition are in
 * the handler at once (one validated while the one before is written; one only at the
 * partition's end, where chunks are cut short), and they finish
 * after kafkajs's `eachBatch` has returned: kafkajs starts the next fetch only once every
 * batch of the last one is done, so the fetch now runs while they are written. A fetch
 * that ends inside a chunk keeps those messages until the next one brings the rest: a
 * chunk is one write and one commit whatever the fetch sizes (only the partition's end
 * cuts one short). While a chunk's write fails, the handler waits through
 * {@link ChunkContext.backoff}: the partition is paused, nothing more is fetched or
 * committed, the group membership is kept alive, and the time is counted as
 * backpressure. Before a chunk is handled, the ranges of the chunks begun are committed
 * as metadata at the offset already committed: a member that reads the partition after a
 * crash cuts those chunks again exactly, and hands them over marked `reread`.
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
  /**
   * Bytes fetched per partition at most: with two chunks in the handler and one held,
   * the memory bound.
   */
  maxBytesPerPartition?: number;
  now?: () => number;
}

export type StopReason = 'idle' | 'stopped';

/** A chunk's offsets, first and last, as the committed metadata names it. */
interface ChunkRange {
  first: string;
  last: string;
}

/** What this member holds of one partition between fetches. */
interface PartitionState {
  /** The group generation (join) it belongs to: a rejoin fetches again from the committed offset. */
  generation: number;
  /** Set when a chunk was left uncommitted: the partition is fetched again from it. */
  stale: boolean;
  /** Fetched, not handed over: a chunk begun by the last fetch and ended by the next. */
  held: KafkaMessage[];
  /**
   * Chunks an earlier member began and did not commit, to be cut again exactly (read
   * from the committed metadata when the state is new), oldest first.
   */
  recut: ChunkRange[] | undefined;
  /** Chunks begun and not committed, oldest first: what the committed metadata names. */
  begun: ChunkRange[];
  /** Chunks handed over and not settled, oldest first (kept across a reset, see stateOf). */
  settling: Promise<void>[];
  /** Whether the last chunk handed over got committed: a chunk commits only after it. */
  last: Promise<boolean>;
  /** This partition's commits, sent one after another. */
  commits: Promise<unknown>;
}

/**
 * Chunks of one partition begun and not committed at most: one is validated while the
 * one before it is written. Their ranges are all in the committed metadata.
 */
const CHUNKS_IN_FLIGHT = 2;

const INTENT_PREFIX = 'callmon-chunk:';

/** `callmon-chunk:0-9999,10000-19999`: the chunks begun, oldest first (one range before). */
function parseIntent(metadata: string | null | undefined): ChunkRange[] | undefined {
  if (!metadata?.startsWith(INTENT_PREFIX)) return undefined;
  const ranges: ChunkRange[] = [];
  for (const part of metadata.slice(INTENT_PREFIX.length).split(',')) {
    const match = /^(\d+)-(\d+)$/.exec(part);
    if (match === null) return undefined;
    ranges.push({ first: match[1]!, last: match[2]! });
  }
  return ranges;
}

function intentOf(begun: readonly ChunkRange[]): string | null {
  if (begun.length === 0) return null;
  return INTENT_PREFIX + begun.map(({ first, last }) => `${first}-${last}`).join(',');
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
  /** Partitions whose fetched messages are being handled, and chunks not yet settled. */
  private busy = 0;
  /** Chunks handed over and not settled (committed or left uncommitted). */
  private readonly pending = new Set<Promise<void>>();
  private readonly partitions = new Map<number, PartitionState>();
  /** Counts the group joins: a chunk begun before the last one is not committed. */
  private generation = 0;
  /** The last assignment, applied once the chunks begun before it have settled. */
  private assignment: Promise<void> = Promise.resolve();
  private joined = false;
  private assignedPartitions: number[] = [];
  private lastActivity: number;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Per partition, the chunks begun and not committed, read once after each (re)join. */
  private intents: Promise<Map<number, ChunkRange[]>> | undefined;
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
    // 8 MiB holds a whole chunk of 25,000 events of ≈ 170 bytes, so the first chunk is
    // handed over after one fetch instead of waiting for a second (BENCHMARKS.md).
    const maxBytesPerPartition = options.maxBytesPerPartition ?? 8 * 1024 * 1024;
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
      // The chunks handed over finish (or give up: their backoff throws once stopping)
      // and commit before the group is left; no chunk is handed over from now on.
      while (this.pending.size > 0) await Promise.allSettled(this.pending);
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
      this.generation++;
      this.metrics.assigned(partitions);
      options.log.info(
        { topic: options.topic, group: options.groupId, partitions },
        'partitions assigned',
      );
      // Chunks begun before the rejoin may still be finishing: the handler hears of the
      // new assignment after them, and nothing new is handed over before that.
      this.assignment = Promise.allSettled([...this.pending])
        .then(() => options.onAssignment?.(partitions))
        .catch((error: unknown) => this.fail(error));
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
    const { batch, resolveOffset, isRunning, isStale } = payload;
    if (this.stopping !== undefined || this.failure !== undefined) return;
    this.busy++;
    this.lastActivity = this.now();
    this.metrics.fetched(batch.partition, batch.highWatermark);
    const { topic, partition } = batch;
    let state: PartitionState | undefined;
    /** The first offset fetched and not handed over: where a failure fetches again from. */
    let unhanded: string | undefined;
    try {
      await this.assignment;
      state = this.stateOf(partition);
      const fetched = withHeld(state.held, batch.messages);
      unhanded = fetched[0]?.offset;
      state.held = [];
      const atEnd = BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark);
      const { chunks, held } = await this.chunksOf(state, partition, fetched, atEnd);
      let handed = 0;
      /** A chunk cut short at the partition's end (a live stream's tail), once handed. */
      let tail: Promise<void> | undefined;
      for (const [index, chunk] of chunks.entries()) {
        const { messages } = chunk;
        while (state.settling.length >= CHUNKS_IN_FLIGHT) await state.settling[0];
        if (this.stopping !== undefined || !isRunning() || isStale() || state.stale) break;
        // Say which chunks are begun before writing this one (the committed offset does not
        // move), so that whoever reads the partition next after a crash cuts them the same.
        state.begun.push({ first: messages[0]!.offset, last: messages.at(-1)!.offset });
        await this.commit(state, payload, state.begun[0]!.first);
        if (this.stopping !== undefined || state.stale) break;
        // The batch's final chunk commits past the batch's end, which may be a transaction
        // marker kafkajs filtered out of `messages`.
        const end =
          index === chunks.length - 1 && held.length === 0
            ? batch.lastOffset()
            : messages.at(-1)!.offset;
        this.begin(state, chunk, end, payload);
        if (
          atEnd &&
          index === chunks.length - 1 &&
          !endsSlot(messages, this.options.chunkMessages)
        ) {
          tail = state.settling.at(-1);
        }
        handed++;
        unhanded = chunks[index + 1]?.messages[0]?.offset ?? held[0]?.offset;
      }
      // The fetch position moves past what is held in memory; anything not handed over
      // (stopping, or a seek back) is fetched again instead.
      if (handed === chunks.length && !isStale() && !state.stale) {
        state.held = held;
        resolveOffset(batch.lastOffset());
      }
      // A chunk cut short at the partition's end is handed at once, and the next fetch
      // waits for it to settle: at a live stream's rate a fetch at once would bring a few
      // dozen events, each batch a store write with its own fixed cost, and the writes
      // would queue up behind one another; waiting, the next fetch gathers what arrived
      // meanwhile, and its events are handed as soon as they are fetched.
      if (tail !== undefined) await tail;
    } catch (error) {
      // The position kafkajs fetches from may be past messages held, or past chunks begun:
      // fetch again from the oldest chunk not committed.
      const from = state?.begun[0]?.first ?? unhanded;
      if (state !== undefined && from !== undefined) this.rewind(state, topic, partition, from);
      throw error;
    } finally {
      this.busy--;
      this.lastActivity = this.now();
    }
  }

  /**
   * The partition's state, reset after a rejoin or a seek back (the partition is fetched
   * again from its committed offset). Chunks still settling are kept: new ones wait for
   * them, so that the handler never has two copies of a chunk at once.
   */
  private stateOf(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (state === undefined || state.generation !== this.generation || state.stale) {
      state = {
        generation: this.generation,
        stale: false,
        held: [],
        recut: undefined,
        begun: [],
        settling: state?.settling ?? [],
        last: Promise.resolve(true),
        commits: Promise.resolve(),
      };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /**
   * Fetch the partition again from `offset` (its committed offset): nothing from there on
   * is committed by this state, and the chunks are cut again as the committed metadata says.
   */
  private rewind(state: PartitionState, topic: string, partition: number, offset: string): void {
    if (state.stale || this.stopping !== undefined) return;
    state.stale = true;
    this.intents = undefined;
    try {
      this.consumer.seek({ topic, partition, offset });
    } catch {
      // Not running any more: the next member reads it from the committed offset.
    }
  }

  /** Commit `offset` with the chunks begun as metadata, after the partition's earlier commits. */
  private commit(state: PartitionState, payload: EachBatchPayload, offset: string): Promise<void> {
    const { topic, partition } = payload.batch;
    // Through the batch's own commit: `consumer.commitOffsets` silently does nothing
    // once a stop has begun, and a stop must commit the chunks it let finish.
    const committed = offsetAt(topic, partition, offset, intentOf(state.begun));
    const sent = state.commits.then(() => payload.commitOffsetsIfNecessary(committed));
    state.commits = sent.catch(() => {});
    return sent;
  }

  /**
   * Write a chunk and commit it once it is durable and the one before it is committed,
   * without holding up the next fetch. A chunk not committed is read again, from the
   * committed offset (whose metadata names it): by this member after a seek back, or by
   * the partition's next owner.
   */
  private begin(
    state: PartitionState,
    chunk: PartitionChunk,
    end: string,
    payload: EachBatchPayload,
  ): void {
    const { topic, partition, messages } = chunk;
    const generation = this.generation;
    const started = this.now();
    const before = state.last;
    const committed = (async () => {
      const outcome = await this.handleChunk(chunk, payload.heartbeat);
      // Left uncommitted: stopping, a fatal error, or a chunk before it left so.
      if (!(await before) || outcome === ABANDONED) return false;
      // Rejoined or reset meanwhile: the partition is read again from its committed
      // offset, by whichever member owns it now.
      if (this.generation !== generation || state.stale) return false;
      const next = (BigInt(end) + 1n).toString();
      state.begun.shift();
      await this.commit(state, payload, next);
      this.options.onCommitted?.(chunk, outcome.result);
      this.metrics.committed(partition, next, messages.length, this.now() - started);
      this.options.log.debug(
        { topic, partition, first: messages[0]!.offset, last: end, messages: messages.length },
        'chunk committed',
      );
      return true;
    })().catch((error: unknown) => {
      // Kafka refused a commit, or a heartbeat while retrying (a rebalance, a moved
      // coordinator): the chunks from this one on stay uncommitted, and the partition is
      // fetched again from it, its intent read again so that the chunks are cut the same.
      this.options.log.warn(
        { err: error, topic, partition, first: messages[0]!.offset },
        'chunk not committed; reading the partition again from it',
      );
      if (this.generation === generation) this.rewind(state, topic, partition, messages[0]!.offset);
      return false;
    });
    state.last = committed;
    const settled = committed.then(() => {
      this.busy--;
      this.lastActivity = this.now();
      this.pending.delete(settled);
      state.settling.splice(state.settling.indexOf(settled), 1);
    });
    this.busy++;
    this.pending.add(settled);
    state.settling.push(settled);
  }

  /**
   * Offset-aligned chunks, except that the chunks begun by an earlier member and not
   * committed are cut again exactly as they were, whatever the fetch around them now holds.
   * A chunk not yet whole is held for the next fetch (unless the partition has no more):
   * a chunk is then one write and one commit whatever the fetch sizes.
   */
  private async chunksOf(
    state: PartitionState,
    partition: number,
    messages: KafkaMessage[],
    atEnd: boolean,
  ): Promise<{ chunks: PartitionChunk[]; held: KafkaMessage[] }> {
    const { topic, chunkMessages: size } = this.options;
    if (state.recut === undefined) {
      this.intents ??= this.readIntents();
      const intents = await this.intents;
      state.recut = intents.get(partition) ?? [];
      intents.delete(partition);
    }
    const chunks: PartitionChunk[] = [];
    let rest = messages;
    while (state.recut.length > 0 && rest.length > 0) {
      const { first, last } = state.recut[0]!;
      if (rest[0]!.offset !== first) {
        state.recut = [];
        break;
      }
      const end = BigInt(last);
      let count = 0;
      while (count < rest.length && BigInt(rest[count]!.offset) <= end) count++;
      if (count === rest.length && !atEnd && rest.at(-1)!.offset !== last) {
        return { chunks, held: rest };
      }
      this.options.log.info(
        { topic, partition, first, last },
        'reading again a chunk begun and not committed',
      );
      chunks.push({ topic, partition, messages: rest.slice(0, count), reread: true });
      rest = rest.slice(count);
      state.recut.shift();
    }
    for (const aligned of offsetAlignedChunks(rest, size)) {
      chunks.push({ topic, partition, messages: aligned, reread: false });
    }
    const tail = chunks.at(-1);
    const held =
      !atEnd && tail !== undefined && !tail.reread && !endsSlot(tail.messages, size)
        ? chunks.pop()!.messages
        : [];
    return { chunks, held };
  }

  private async readIntents(): Promise<Map<number, ChunkRange[]>> {
    const { groupId, topic } = this.options;
    const [offsets] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    const intents = new Map<number, ChunkRange[]>();
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

/** Messages held from the last fetch, then the new fetch's (any overlap dropped). */
function withHeld(held: KafkaMessage[], fetched: KafkaMessage[]): KafkaMessage[] {
  if (held.length === 0) return fetched;
  const last = BigInt(held.at(-1)!.offset);
  // The next fetch starts after what is held; overlap only after a seek, so look only then.
  const overlaps = fetched.length > 0 && BigInt(fetched[0]!.offset) <= last;
  return held.concat(
    overlaps ? fetched.filter((message) => BigInt(message.offset) > last) : fetched,
  );
}

/** Whether a chunk's last message is the last offset of its slot: nothing more can join it. */
function endsSlot(messages: readonly KafkaMessage[], size: number): boolean {
  return (Number(messages.at(-1)!.offset) + 1) % size === 0;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
