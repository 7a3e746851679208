// A member dies after writing a chunk and before committing it; the next member reads the chunk
// again. The store must end up holding physically what one clean pass writes — one row per
// accepted event, one rejected row per rejected position, no "duplicate" of an event by itself —
// even when the partition has grown meanwhile (the re-read fetch then reaches further). Real
// broker, real chDB; the "death" is the store turning fatal (StoreFailedError) mid-chunk.
import { randomUUID } from 'node:crypto';
import { Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import { createLog, KafkaIngest } from '@callmon/ingest';
import { type Store, StoreFailedError } from '@callmon/store';
import {
  generateEvents,
  openRawClient,
  openTestStore,
  type TestStore,
  toWire,
} from '@callmon/store/testing';
import { type Admin, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const line = (event: CallmonEvent) => JSON.stringify(toWire(event));
const events = (
  force: string,
  count: number,
  seed: number,
  start = Date.parse('2024-02-19T08:00:00Z'),
) => [...generateEvents({ force, start, count, seed })];

describe.skipIf(skip)('a chunk written, not committed, and read again', () => {
  const runId = randomUUID().slice(0, 8);
  const kafka = new Kafka({
    clientId: 'callmon-reread-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin;
  let producer: Producer;
  let test: TestStore;
  let raw: Awaited<ReturnType<typeof openRawClient>>;
  const topics: string[] = [];
  const groups: string[] = [];

  async function topicAndGroup(name: string) {
    const topic = `callmon.test.reread.${name}.${runId}`;
    const groupId = `callmon-test-reread-${name}-${runId}`;
    topics.push(topic);
    groups.push(groupId);
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    return { topic, groupId };
  }

  const send = (topic: string, values: (string | null)[]) =>
    producer.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });

  /** A store whose `method` fails as a dead embedded engine does. */
  function dyingAt(method: keyof Store): Store {
    return new Proxy(test.store, {
      get(target, property) {
        if (property === method) {
          return () => Promise.reject(new StoreFailedError('the embedded engine aborted (test)'));
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const ingest = (topic: string, groupId: string, store: Store, idleMs?: number) =>
    KafkaIngest.start({
      brokers,
      topic,
      groupId,
      store,
      log: createLog('silent'),
      clock: { now: () => Date.now() },
      policy: Policy.ukDefault(),
      batchRows: 100,
      ...(idleMs === undefined ? {} : { idleMs }),
    });

  /** What the store holds physically for one topic. */
  async function rows(topic: string) {
    const count = async (query: string) => {
      const result = await raw.query({ query, format: 'JSONEachRow', query_params: { topic } });
      return (await result.json<Record<string, string | number>>()).map((row) =>
        Object.fromEntries(Object.entries(row).map(([key, value]) => [key, String(value)])),
      );
    };
    const [events] = await count(
      'SELECT count() AS rows, uniqExact(force, id) AS distinct FROM events WHERE source_name = {topic:String}',
    );
    const rejected = await count(
      'SELECT reason, count() AS rows, uniqExact(source_offset) AS positions FROM rejected_events WHERE source_name = {topic:String} GROUP BY reason ORDER BY reason',
    );
    return { events, rejected };
  }

  async function committed(topic: string, groupId: string) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets!.partitions[0]!;
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    test = await openTestStore();
    raw = await openRawClient(test.options);
  });

  afterAll(async () => {
    await producer?.disconnect();
    if (admin) {
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.deleteGroups(groups).catch(() => {});
      await admin.disconnect();
    }
    await raw?.close();
    await test?.cleanup();
  });

  it('died after the whole chunk was durable; the partition grew before the restart', async () => {
    const { topic, groupId } = await topicAndGroup('durable');
    // Dated within the live window, so that the chunk's force is restored (and dies there).
    const first = events('northants', 30, 5, Date.now() - 86_400_000);
    await send(topic, first.map(line));

    // Durable, then the live-state restore finds the engine dead: nothing is committed.
    const dying = await ingest(topic, groupId, dyingAt('readEvents'));
    await expect(dying.done).rejects.toThrow(StoreFailedError);
    expect(await committed(topic, groupId)).toMatchObject({ offset: '0' });
    expect((await rows(topic)).events).toEqual({ rows: '30', distinct: '30' });

    const more = events('kent', 10, 6);
    await send(topic, more.map(line));
    const next = await ingest(topic, groupId, test.store, 1500);
    await expect(next.done).resolves.toBe('idle');

    // The chunk read again is the same chunk, with the same rows, so the store kept one copy.
    expect(next.counts).toMatchObject({ accepted: 40, duplicates: 0, conflicts: 0, rejected: 0 });
    expect(await rows(topic)).toEqual({ events: { rows: '40', distinct: '40' }, rejected: [] });
    expect(await committed(topic, groupId)).toMatchObject({ offset: '40' });
  }, 90_000);

  it('died between the events and the rejected rows of a chunk', async () => {
    const { topic, groupId } = await topicAndGroup('partial');
    const valid = events('essex', 20, 7); // a force of its own: ids are per force
    await send(topic, [
      ...valid.map(line),
      '{"v":1,"id":"torn',
      ...valid.slice(0, 5).map(line), // sent twice: duplicates of earlier messages
    ]);

    const dying = await ingest(topic, groupId, dyingAt('insertRejected'));
    await expect(dying.done).rejects.toThrow(StoreFailedError);
    expect(await rows(topic)).toEqual({ events: { rows: '20', distinct: '20' }, rejected: [] });

    const next = await ingest(topic, groupId, test.store, 1500);
    await expect(next.done).resolves.toBe('idle');
    expect(next.counts).toMatchObject({ accepted: 20, duplicates: 5, conflicts: 0, rejected: 1 });
    expect(await rows(topic)).toEqual({
      events: { rows: '20', distinct: '20' },
      rejected: [
        { reason: 'duplicate', rows: '5', positions: '5' },
        { reason: 'invalid_json', rows: '1', positions: '1' },
      ],
    });
  }, 90_000);
});
