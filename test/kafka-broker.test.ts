// A real round trip through the Kafka broker (infra/local/kafka, or KAFKA_BROKERS) with kafkajs:
// idempotent producer, consumer group with eachBatch + manual commits, resume from the committed
// offsets, and a rebalance. Every expectation is computed from what was produced.
import { randomUUID } from 'node:crypto';
import {
  type Admin,
  type Consumer,
  type IMemberAssignment,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = (inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '').split(',');

const PARTITIONS = 3;
const KEYS = Array.from({ length: 8 }, (_, i) => `INC-2026-${String(i + 1).padStart(4, '0')}`);

interface Produced {
  key: string;
  seq: number;
  phase: number;
}
interface Received extends Produced {
  /** The message key as the broker returned it (the payload carries the key it was sent with). */
  messageKey: string | undefined;
  partition: number;
  offset: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** kafkajs's WARN/ERROR lines, appended to waitFor's timeout errors (KAFKAJS_LOG=1 prints them live). */
const kafkaLog: string[] = [];
const logCreator = () => (entry: LogEntry) => {
  const line = `${entry.namespace} ${entry.log.message} ${JSON.stringify(entry.log)}`;
  kafkaLog.push(line);
  if (process.env.KAFKAJS_LOG) console.error(line);
};

async function waitFor(
  what: string,
  done: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}\n${kafkaLog.join('\n')}`,
      );
    }
    await sleep(100);
  }
}

/** key -> sequence numbers, in the order given. */
function byKey(messages: readonly Produced[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of messages) out.set(m.key, [...(out.get(m.key) ?? []), m.seq]);
  return out;
}

describe.skipIf(skip)('Kafka broker round trip (kafkajs)', () => {
  const runId = randomUUID();
  const topic = `callmon.test.broker.${runId}`;
  const groupId = `callmon-test-group-${runId}`;
  const kafka = new Kafka({
    clientId: 'callmon-kafka-broker-test',
    brokers,
    logLevel: logLevel.WARN,
    logCreator,
    retry: { retries: 8, initialRetryTime: 200 },
  });
  let admin: Admin;
  let producer: Producer;
  const consumers: Consumer[] = [];
  const produced: Produced[] = [];
  /** The member that resumes after the first one; still running when the rebalance test starts. */
  let b: Awaited<ReturnType<typeof startConsumer>> | undefined;

  /** Produces `perKey` more messages for every key, interleaved across keys, in several sends. */
  async function produce(phase: number, perKey: number): Promise<Produced[]> {
    const start = produced.filter((m) => m.key === KEYS[0]).length;
    const batch: Produced[] = [];
    for (let i = 0; i < perKey; i++) {
      for (const key of KEYS) batch.push({ key, seq: start + i, phase });
    }
    for (let i = 0; i < batch.length; i += 20) {
      const chunk = batch.slice(i, i + 20);
      await producer.send({
        topic,
        messages: chunk.map((m) => ({ key: m.key, value: JSON.stringify(m) })),
      });
    }
    produced.push(...batch);
    return batch;
  }

  /** A group member that records what it gets and commits after each batch. */
  async function startConsumer() {
    const received: Received[] = [];
    const joins: IMemberAssignment[] = [];
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 250, // short fetch long-polls: quicker disconnects and rebalances
      retry: { retries: 8, initialRetryTime: 200 },
    });
    consumers.push(consumer);
    consumer.on(consumer.events.GROUP_JOIN, (e) => joins.push(e.payload.memberAssignment));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        let last: string | undefined;
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          const value = JSON.parse(message.value?.toString() ?? 'null') as Produced;
          received.push({
            ...value,
            messageKey: message.key?.toString(),
            partition: batch.partition,
            offset: message.offset,
          });
          resolveOffset(message.offset);
          last = message.offset;
        }
        if (last !== undefined) {
          await consumer.commitOffsets([
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: (BigInt(last) + 1n).toString(),
            },
          ]);
        }
        await heartbeat();
      },
    });
    return { consumer, received, joins };
  }

  /** Polls until the group's committed offsets equal the partitions' high watermarks. */
  async function expectCommittedToEnd(): Promise<Map<number, string>> {
    let high = new Map<number, string>();
    await waitFor(
      'committed offsets to reach the end of every partition',
      async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const committed = new Map(offsets?.partitions.map((p) => [p.partition, p.offset]));
        const ends = await admin.fetchTopicOffsets(topic);
        high = new Map(ends.map((p) => [p.partition, p.high]));
        return high.size === PARTITIONS && [...high].every(([p, h]) => committed.get(p) === h);
      },
      15_000,
    );
    return high;
  }

  beforeAll(async () => {
    expect(brokers[0], 'KAFKA_BROKERS / inject("kafkaBrokers") from global setup').toBeTruthy();
    admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    expect(created).toBe(true);
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // kafkajs warns unless an idempotent producer may retry without limit (the client-wide
      // retry settings above would otherwise apply); the test timeouts bound it here.
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await producer?.disconnect();
    if (admin) {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    }
  });

  it('creates the topic with the requested partitions', async () => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
  });

  it('delivers every message exactly once, in per-key order, and commits to the end', async () => {
    const sent = await produce(1, 25);
    const a = await startConsumer();
    await waitFor(`consumer a to receive ${sent.length} messages`, () => {
      return a.received.length >= sent.length;
    });
    await sleep(500); // give any duplicate a chance to show up

    expect(a.received).toHaveLength(sent.length);
    expect(byKey(a.received)).toEqual(byKey(sent));
    expect(a.received.every((m) => m.messageKey === m.key)).toBe(true);
    // Keyed messages: one partition per key, offsets increasing within it.
    for (const key of KEYS) {
      const mine = a.received.filter((m) => m.key === key);
      expect(new Set(mine.map((m) => m.partition)).size, key).toBe(1);
      const offsets = mine.map((m) => BigInt(m.offset));
      expect(
        offsets.every((o, i) => i === 0 || o > offsets[i - 1]!),
        key,
      ).toBe(true);
    }
    // The idempotent producer wrote each message once: the log holds exactly what was sent.
    const high = await expectCommittedToEnd();
    expect([...high.values()].reduce((n, h) => n + Number(h), 0)).toBe(sent.length);

    await a.consumer.disconnect();
  }, 60_000);

  it('a second consumer in the group resumes after the committed offsets', async () => {
    const sent = await produce(2, 10);
    const member = await startConsumer();
    b = member;
    await waitFor(`consumer b to receive ${sent.length} messages`, () => {
      return member.received.length >= sent.length;
    });
    await sleep(500);

    expect(member.received.filter((m) => m.phase !== 2)).toEqual([]); // nothing re-delivered
    expect(member.received).toHaveLength(sent.length);
    expect(byKey(member.received)).toEqual(byKey(sent));
    await expectCommittedToEnd();
  }, 60_000);

  it('a rebalance splits the partitions between two members, losing and repeating nothing', async () => {
    if (!b) throw new Error('needs the running consumer b of the previous test');
    const { received: bReceived, joins: bJoins } = b;
    // A third member joins the running group and takes over part of the partitions.
    const c = await startConsumer();
    await waitFor('the group to rebalance over b and c', () => {
      return c.joins.length >= 1 && bJoins.length >= 2;
    });
    const bParts = bJoins.at(-1)?.[topic] ?? [];
    const cParts = c.joins.at(-1)?.[topic] ?? [];
    expect(bParts.length).toBeGreaterThan(0);
    expect(cParts.length).toBeGreaterThan(0);
    expect([...bParts, ...cParts].sort()).toEqual([0, 1, 2]);

    const bBefore = bReceived.length;
    const sent3 = await produce(3, 10);
    const after = () => [...bReceived.slice(bBefore), ...c.received];
    await waitFor(`b and c to receive ${sent3.length} messages`, () => {
      return after().length >= sent3.length;
    });
    await sleep(500);

    expect(c.received.filter((m) => m.phase !== 3)).toEqual([]); // nothing re-delivered
    expect(after()).toHaveLength(sent3.length);
    // Each member only got its own partitions, and together they got every message once.
    expect(bReceived.slice(bBefore).every((m) => bParts.includes(m.partition))).toBe(true);
    expect(c.received.every((m) => cParts.includes(m.partition))).toBe(true);
    const merged = new Map<string, number[]>();
    for (const key of KEYS) {
      const fromB = bReceived.slice(bBefore).filter((m) => m.key === key);
      const fromC = c.received.filter((m) => m.key === key);
      expect(fromB.length === 0 || fromC.length === 0, `${key} on one member only`).toBe(true);
      merged.set(
        key,
        [...fromB, ...fromC].map((m) => m.seq),
      );
    }
    expect(merged).toEqual(byKey(sent3));
    // The log holds every message produced in this file exactly once.
    const high = await expectCommittedToEnd();
    expect([...high.values()].reduce((n, h) => n + Number(h), 0)).toBe(produced.length);
  }, 60_000);
});
