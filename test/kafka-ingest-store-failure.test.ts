// The fault test: the store's writes fail for 30 s while events keep arriving on the
// topic. No offset may be committed during the failure (checked through the admin API), the
// partitions wait paused, and afterwards every event arrives exactly once, every rejected
// message with its topic, partition and offset. A real broker and a real chDB store, wrapped
// only to make its inserts throw.
import { Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import { createLog, KafkaIngest } from '@callmon/ingest';
import type { Store } from '@callmon/store';
import { generateEvents, openTestStore, type TestStore, toWire } from '@callmon/store/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testTopic } from './support/kafka-topic.ts';
import { aroundWrites } from './support/store-writes.ts';
import { sleep, waitFor } from './support/wait.ts';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const FAILURE_MS = 30_000;
const line = (event: CallmonEvent) => JSON.stringify(toWire(event));

describe.skipIf(skip)('store writes failing for 30 s under a running Kafka ingest', () => {
  const kafka = testTopic(brokers, 'store-failure');
  const { topic, groupId, admin, producer } = kafka;
  let test: TestStore;
  let ingest: KafkaIngest | undefined;
  let failing = false;
  let refusedWrites = 0;

  /** The real store, with inserts that throw while `failing`. */
  const flakyStore = (store: Store) =>
    aroundWrites(store, (write) => {
      if (!failing) return write();
      refusedWrites++;
      return Promise.reject(new Error('connect ECONNREFUSED (store down for the test)'));
    });

  async function committedAndEnd() {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map(
      offsets!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]),
    );
    const end = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
    );
    return { committed, end };
  }

  const events = (force: string, count: number, seed: number) => [
    ...generateEvents({ force, start: Date.parse('2024-02-19T08:00:00Z'), count, seed }),
  ];

  beforeAll(async () => {
    await kafka.create(2);
    test = await openTestStore();
  });

  afterAll(async () => {
    await ingest?.stop();
    await kafka.cleanup();
    await test?.cleanup();
  });

  it('commits nothing while the writes fail, then stores everything exactly once', async () => {
    const before = [...events('northants', 200, 1), ...events('kent', 200, 2)];
    await producer.send({
      topic,
      messages: before.map((event) => ({ key: event.force, value: line(event) })),
    });
    ingest = await KafkaIngest.start({
      brokers,
      topic,
      groupId,
      store: flakyStore(test.store),
      log: createLog('silent'),
      clock: { now: () => Date.now() },
      policy: Policy.ukDefault(),
      batchRows: 50,
      maxBackoffMs: 1000,
    });
    await waitFor(
      'the first events to be committed',
      async () => {
        const { committed, end } = await committedAndEnd();
        return [...end].every(([partition, high]) => committed.get(partition) === high);
      },
      60_000,
    );
    expect(ingest.counts.accepted).toBe(before.length);

    // The store goes down; events keep coming, some of them unreadable.
    failing = true;
    const failedAt = Date.now();
    const { committed: frozen } = await committedAndEnd();
    const during = [...events('northants', 300, 3), ...events('kent', 300, 4)].filter(
      (event) => !before.some((old) => old.force === event.force && old.id === event.id),
    );
    await producer.send({
      topic,
      messages: during.map((event) => ({ key: event.force, value: line(event) })),
    });
    const bad: { partition: number; offset: number }[] = [];
    for (const [key, value] of [
      ['northants', '{"v":1,"id":"torn'],
      ['kent', '{"v":1,"id":"x","type":"call.presented","force":"kent"}'],
      ['kent', null],
    ] as const) {
      const [meta] = await producer.send({ topic, messages: [{ key, value }] });
      bad.push({ partition: meta!.partition, offset: Number(meta!.baseOffset) });
    }

    while (Date.now() - failedAt < FAILURE_MS) {
      const { committed, end } = await committedAndEnd();
      expect(committed, 'no offset is committed while the store fails').toEqual(frozen);
      expect([...end].some(([partition, high]) => high > frozen.get(partition)!)).toBe(true);
      await sleep(1000);
    }
    const failingMetrics = ingest.metrics();
    expect(refusedWrites).toBeGreaterThan(5); // retried with backoff, not given up
    expect(failingMetrics.writeFailures).toBeGreaterThan(5);
    expect(failingMetrics.partitions.some((partition) => partition.paused)).toBe(true);
    expect(failingMetrics.lag).toBeGreaterThan(0);
    expect(failingMetrics.accepted).toBe(before.length); // nothing counted that is not durable
    // Heartbeats went on through the 30 s (the session timeout): no eviction, no rebalance.
    expect(failingMetrics.rebalances).toBe(1);

    failing = false;
    await waitFor(
      'everything to be committed after the store came back',
      async () => {
        const { committed, end } = await committedAndEnd();
        return [...end].every(([partition, high]) => committed.get(partition) === high);
      },
      60_000,
    );

    const all = [...before, ...during];
    expect(await test.store.countEvents()).toBe(all.length);
    for (const force of ['northants', 'kent']) {
      const stored = await test.store.readEvents({ force });
      expect(stored.map((event) => event.id).sort(), force).toEqual(
        all
          .filter((event) => event.force === force)
          .map((event) => event.id)
          .sort(),
      );
    }
    const rejected = await test.store.listRejected({ limit: 100 });
    expect(
      rejected
        .map((entry) => ({ ...entry.position, reason: entry.reason }))
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset),
    ).toEqual(
      bad
        .map(({ partition, offset }, index) => ({
          kind: 'kafka',
          name: topic,
          partition,
          offset,
          reason: ['invalid_json', 'missing_field', 'invalid_json'][index],
        }))
        .sort((a, b) => a.partition - b.partition || a.offset - b.offset),
    );

    const metrics = ingest.metrics();
    expect(metrics).toMatchObject({
      accepted: all.length,
      duplicates: 0,
      conflicts: 0,
      rejected: bad.length,
      lag: 0,
    });
    expect(metrics.backpressureMs).toBeGreaterThanOrEqual(FAILURE_MS - 5_000);
    expect(metrics.partitions.every((partition) => !partition.paused)).toBe(true);

    await ingest.stop();
    await expect(ingest.done).resolves.toBe('stopped');
    ingest = undefined;
  }, 150_000);
});
