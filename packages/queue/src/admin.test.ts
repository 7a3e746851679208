import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopics } from './admin.ts';
import { createKafka } from './client.ts';

const brokers = process.env.KAFKA_BROKERS ?? '';

describe.skipIf(process.env.CALLMON_SKIP_KAFKA || !brokers)('ensureTopics (real broker)', () => {
  const kafka = createKafka({ brokers, clientId: 'callmon-admin-test' });
  const run = randomUUID().slice(0, 8);
  const events = `callmon.test.admin.${run}.events`;
  const live = `callmon.test.admin.${run}.live`;

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [events, live] }).catch(() => {});
    await admin.disconnect();
  });

  it('creates missing topics with the asked partitions, then finds them on a second run', async () => {
    const first = await ensureTopics(kafka, [
      { topic: events, partitions: 3 },
      { topic: live, partitions: 2 },
    ]);
    expect(first).toEqual([
      { topic: events, created: true, partitions: 3 },
      { topic: live, created: true, partitions: 2 },
    ]);
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [events, live] });
    await admin.disconnect();
    expect(metadata.topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
      [
        [events, 3],
        [live, 2],
      ].sort(),
    );

    // Idempotent, and an existing topic keeps its partitions whatever is asked now.
    const second = await ensureTopics(kafka, [
      { topic: events, partitions: 12 },
      { topic: live, partitions: 12 },
    ]);
    expect(second).toEqual([
      { topic: events, created: false, partitions: 3 },
      { topic: live, created: false, partitions: 2 },
    ]);
  });

  it('refuses a partition count that is not a positive integer, naming the topic', async () => {
    await expect(ensureTopics(kafka, [{ topic: events, partitions: 0 }])).rejects.toThrow(
      `topic ${events}: partitions must be a positive integer`,
    );
  });

  it('fails within seconds when no broker answers', async () => {
    const dead = createKafka({ brokers: '127.0.0.1:1', clientId: 'callmon-admin-test' });
    const started = Date.now();
    await expect(ensureTopics(dead, [{ topic: events, partitions: 1 }])).rejects.toThrow(
      /ECONNREFUSED|Connection/,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
