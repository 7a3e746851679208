// BatchConsumer against the real broker (infra/local/kafka, or KAFKA_BROKERS from the global
// setup): aligned chunks committed in order, idle exit, a stop during a failing write, a fatal
// handler error. Unique topic and group names per test; the broker is shared.
import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchConsumer, type BatchConsumerOptions, type PartitionChunk } from './consumer.ts';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** The whole numbers from `from` to `to`, both included. */
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe.skipIf(skip)('BatchConsumer', () => {
  const kafka = new Kafka({
    clientId: 'callmon-consumer-test',
    brokers,
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin;
  const topics: string[] = [];
  const groups: string[] = [];

  /** A one-partition topic holding `count` messages (sent `perSend` at a time), and a fresh group. */
  async function topicWith(count: number, perSend = count) {
    const id = randomUUID().slice(0, 8);
    const topic = `callmon.test.consumer.${id}`;
    const groupId = `callmon-test-consumer-${id}`;
    topics.push(topic);
    groups.push(groupId);
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = kafka.producer();
    await producer.connect();
    for (let from = 0; from < count; from += perSend) {
      const length = Math.min(perSend, count - from);
      await producer.send({
        topic,
        messages: Array.from({ length }, (_, index) => ({ value: `m${from + index}` })),
      });
    }
    await producer.disconnect();
    return { topic, groupId };
  }

  async function committed(topic: string, groupId: string): Promise<number> {
    return Number((await committedWithMetadata(topic, groupId)).offset);
  }

  async function committedWithMetadata(topic: string, groupId: string) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const { offset, metadata } = offsets!.partitions[0]!;
    return { offset, metadata };
  }
  /** A member of `groupId` reading `topic` in chunks of 100, silently; `options` add or override. */
  function member<R>(
    topic: string,
    groupId: string,
    options: Pick<BatchConsumerOptions<R>, 'handle'> & Partial<BatchConsumerOptions<R>>,
  ): Promise<BatchConsumer<R>> {
    return BatchConsumer.start({
      kafka,
      groupId,
      topic,
      chunkMessages: 100,
      log: silent,
      ...options,
    });
  }

  const offsets = (chunk: PartitionChunk) => chunk.messages.map((m) => Number(m.offset));

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.deleteGroups(groups).catch(() => {});
    await admin.disconnect();
  });

  it('hands over offset-aligned chunks in order, counts each once committed, and stops when idle', async () => {
    const { topic, groupId } = await topicWith(250);
    const handled: number[][] = [];
    const counted: number[][] = [];
    const consumer = await member(topic, groupId, {
      idleMs: 1000,
      handle: async (chunk) => {
        handled.push(offsets(chunk));
        return offsets(chunk);
      },
      onCommitted: (_chunk, result) => counted.push(result),
    });
    await expect(consumer.done).resolves.toBe('idle');

    expect(handled.flat()).toEqual(Array.from({ length: 250 }, (_, index) => index));
    for (const chunk of handled) {
      // Within one slot of 100 offsets: [0, 99], [100, 199], [200, 249].
      expect(new Set(chunk.map((offset) => Math.floor(offset / 100))).size).toBe(1);
    }
    expect(counted).toEqual(handled);
    expect(await committedWithMetadata(topic, groupId)).toEqual({ offset: '250', metadata: null });
    expect(consumer.metrics.snapshot()).toMatchObject({ messages: 250, lag: 0, backpressureMs: 0 });
  }, 60_000);

  it('a stop while a write keeps failing leaves the chunk uncommitted and still stops', async () => {
    const { topic, groupId } = await topicWith(30);
    let attempts = 0;
    let counted = 0;
    let consumer: BatchConsumer | undefined;
    const failing = new Promise<void>((resolve) => {
      void member(topic, groupId, {
        maxBackoffMs: 200,
        handle: async (_chunk, context) => {
          for (;;) {
            attempts++;
            if (attempts === 3) resolve();
            await context.backoff(1000); // the store is down; this throws once stopping
          }
        },
        onCommitted: () => counted++,
      }).then((started) => {
        consumer = started;
      });
    });
    await failing;
    const during = consumer!.metrics.snapshot();
    expect(during.partitions[0]!.paused).toBe(true);
    expect(during.writeFailures).toBe(3);

    await consumer!.stop();
    await expect(consumer!.done).resolves.toBe('stopped');
    expect(counted).toBe(0);
    // Nothing consumed is committed: the offset stays at the chunk's start, and the
    // metadata names the chunk begun, for whoever reads the partition next.
    expect(await committedWithMetadata(topic, groupId)).toEqual({
      offset: '0',
      metadata: 'callmon-chunk:0-29',
    });
    const after = consumer!.metrics.snapshot();
    expect(after.partitions[0]!.paused).toBe(false);
    // Paused from the first failure: two full waits of 200 ms came before the third attempt.
    expect(after.backpressureMs).toBeGreaterThanOrEqual(390);
  }, 60_000);

  it('a handler error stops the member without committing, and rejects done with it', async () => {
    const { topic, groupId } = await topicWith(10);
    const consumer = await member(topic, groupId, {
      handle: async () => {
        throw new Error('the embedded engine aborted');
      },
    });
    await expect(consumer.done).rejects.toThrow('the embedded engine aborted');
    expect(await committed(topic, groupId)).toBe(0);
  }, 60_000);

  it('a chunk begun and not committed is cut again exactly as it was, and marked as read again', async () => {
    const { topic, groupId } = await topicWith(25);
    // A member dies inside the chunk [0, 24] (the whole partition then) ...
    const dying = await member(topic, groupId, {
      handle: async () => {
        throw new Error('killed');
      },
    });
    await expect(dying.done).rejects.toThrow('killed');
    // ... and the partition grows before the next member reads it.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 15 }, (_, index) => ({ value: `late${index}` })),
    });
    await producer.disconnect();

    const handled: { offsets: number[]; reread: boolean }[] = [];
    const next = await member(topic, groupId, {
      idleMs: 1000,
      handle: async (chunk) => {
        handled.push({ offsets: offsets(chunk), reread: chunk.reread });
      },
    });
    await expect(next.done).resolves.toBe('idle');
    // Not one aligned chunk [0, 39]: the chunk begun, then the rest.
    expect(handled).toEqual([
      { offsets: range(0, 24), reread: true },
      { offsets: range(25, 39), reread: false },
    ]);
    expect(await committed(topic, groupId)).toBe(40);
  }, 60_000);

  it('a fetch that ends inside a chunk: the chunk is still handed over whole, once', async () => {
    // Record batches of 30 messages, and one batch a fetch: every chunk spans several fetches.
    const { topic, groupId } = await topicWith(250, 30);
    const handled: number[][] = [];
    const consumer = await member(topic, groupId, {
      maxBytesPerPartition: 256,
      idleMs: 1000,
      handle: async (chunk) => {
        handled.push(offsets(chunk));
      },
    });
    await expect(consumer.done).resolves.toBe('idle');
    expect(handled).toEqual([range(0, 99), range(100, 199), range(200, 249)]);
    expect(await committedWithMetadata(topic, groupId)).toEqual({ offset: '250', metadata: null });
  }, 60_000);

  it('two chunks begun and not committed are both named, and both cut again as they were', async () => {
    const { topic, groupId } = await topicWith(250);
    // The second chunk is durable at once; the first fails after a while, so neither commits.
    const dying = await member(topic, groupId, {
      handle: async (chunk) => {
        if (chunk.messages[0]!.offset !== '0') return;
        await new Promise((resolve) => setTimeout(resolve, 500));
        throw new Error('killed');
      },
    });
    await expect(dying.done).rejects.toThrow('killed');
    expect(await committedWithMetadata(topic, groupId)).toEqual({
      offset: '0',
      metadata: 'callmon-chunk:0-99,100-199',
    });

    const handled: { first: number; last: number; reread: boolean }[] = [];
    const next = await member(topic, groupId, {
      idleMs: 1000,
      handle: async (chunk) => {
        const [first, last] = [offsets(chunk)[0]!, offsets(chunk).at(-1)!];
        handled.push({ first, last, reread: chunk.reread });
      },
    });
    await expect(next.done).resolves.toBe('idle');
    expect(handled).toEqual([
      { first: 0, last: 99, reread: true },
      { first: 100, last: 199, reread: true },
      { first: 200, last: 249, reread: false },
    ]);
    expect(await committed(topic, groupId)).toBe(250);
  }, 60_000);

  it('at the log’s end, a short chunk is handed at once and the next fetch waits for it: one in the handler, the next gathers what arrives', async () => {
    const { topic, groupId } = await topicWith(1);
    const WRITE_MS = 500;
    let inHandler = 0;
    let most = 0;
    const sizes: number[] = [];
    const sentAt = new Map<string, number>();
    let longestWait = 0;
    const consumer = await member(topic, groupId, {
      maxWaitTimeMs: 50,
      handle: async (chunk) => {
        inHandler++;
        most = Math.max(most, inHandler);
        sizes.push(chunk.messages.length);
        for (const message of chunk.messages) {
          const sent = sentAt.get(message.value!.toString());
          if (sent !== undefined) longestWait = Math.max(longestWait, Date.now() - sent);
        }
        await new Promise((resolve) => setTimeout(resolve, WRITE_MS)); // a slow store write
        inHandler--;
      },
    });
    // A live stream's tail: one message every 20 ms, far below a chunk of 100.
    const producer = kafka.producer();
    await producer.connect();
    for (let index = 1; index < 60; index++) {
      sentAt.set(`m${index}`, Date.now());
      await producer.send({ topic, messages: [{ value: `m${index}` }] });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await producer.disconnect();
    while ((await committed(topic, groupId).catch(() => -1)) < 60) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await consumer.stop();
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(60);
    // Two short chunks in the handler at once would each be a write of a few messages.
    expect(most).toBe(1);
    expect(Math.max(...sizes)).toBeGreaterThan(5);
    // A message waits for the write in hand, not also for the one after it: fetched while
    // a short chunk is written and held back until it settles, it would wait up to two.
    expect(longestWait).toBeLessThan(1.5 * WRITE_MS);
  }, 60_000);

  it('a missing topic is an error naming it', async () => {
    await expect(
      BatchConsumer.start({
        kafka,
        groupId: `callmon-test-consumer-${randomUUID()}`,
        topic: 'callmon.test.consumer.absent',
        chunkMessages: 10,
        log: silent,
        handle: async () => {},
      }),
    ).rejects.toThrow(/topic "callmon\.test\.consumer\.absent" does not exist/);
  });
});
