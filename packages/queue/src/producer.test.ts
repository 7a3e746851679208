import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTopics } from './admin.ts';
import { createKafka } from './client.ts';
import { EventPublisher, TopicMissingError } from './producer.ts';

const brokers = process.env.KAFKA_BROKERS ?? '';

interface Read {
  key: string;
  value: string;
  partition: number;
  offset: number;
}

/** Everything in the topic now, read by a throwaway consumer group. */
async function readAll(kafka: Kafka, topic: string): Promise<Read[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  const consumer = kafka.consumer({ groupId: `callmon-test-read-${randomUUID()}` });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      if (total === 0) resolve();
      const timer = setTimeout(() => reject(new Error(`read ${read.length} of ${total}`)), 30_000);
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            read.push({
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              partition,
              offset: Number(message.offset),
            });
            if (read.length >= total) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}

describe.skipIf(process.env.CALLMON_SKIP_KAFKA || !brokers)('EventPublisher (real broker)', () => {
  const kafka = createKafka({ brokers, clientId: 'callmon-producer-test' });
  const run = randomUUID().slice(0, 8);
  const topic = `callmon.test.producer.${run}`;
  const bigTopic = `callmon.test.producer.${run}.big`;

  beforeAll(async () => {
    await ensureTopics(
      kafka,
      [
        { topic, partitions: 4 },
        { topic: bigTopic, partitions: 1 },
      ],
      { replicationFactor: 1 },
    );
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, bigTopic] }).catch(() => {});
    await admin.disconnect();
  });

  it('writes every message once, keyed, each key in one partition in publish order', async () => {
    const forces = ['northants', 'kent', 'dyfed-powys', 'met'];
    const sent = Array.from({ length: 5000 }, (_, i) => ({
      key: forces[i % forces.length]!,
      value: JSON.stringify({ seq: i }),
    }));
    const publisher = await EventPublisher.connect({ brokers, topic, maxBatch: 300 });
    let waited = 0;
    for (const message of sent) {
      const full = publisher.publish(message);
      if (full !== undefined) {
        waited++;
        await full;
      }
    }
    await publisher.close();
    expect(publisher.acknowledged).toBe(sent.length);
    // 5000 messages in batches of 300 fill the buffer at least once.
    expect(waited).toBeGreaterThan(0);

    const read = await readAll(kafka, topic);
    expect(read).toHaveLength(sent.length);
    for (const force of forces) {
      const mine = read.filter((m) => m.key === force).sort((a, b) => a.offset - b.offset);
      expect(new Set(mine.map((m) => m.partition)).size, force).toBe(1);
      expect(
        mine.map((m) => m.value),
        force,
      ).toEqual(sent.filter((m) => m.key === force).map((m) => m.value));
    }
  });

  it('splits what would exceed the broker message size into several requests', async () => {
    // 3 MiB in all, each message 100 KiB: one request would be refused (MESSAGE_TOO_LARGE).
    const value = 'x'.repeat(100 * 1024);
    const publisher = await EventPublisher.connect({ brokers, topic: bigTopic, maxBatch: 1000 });
    for (let i = 0; i < 30; i++) await publisher.publish({ key: 'kent', value: `${i}${value}` });
    await publisher.close();
    const read = await readAll(kafka, bigTopic);
    expect(read.map((m) => m.value.slice(0, 2).replace('x', ''))).toEqual(
      Array.from({ length: 30 }, (_, i) => String(i)),
    );
  });

  it('names the topic and how to create it when the topic does not exist', async () => {
    const missing = `callmon.test.producer.${run}.missing`;
    const attempt = EventPublisher.connect({ brokers, topic: missing });
    await expect(attempt).rejects.toBeInstanceOf(TopicMissingError);
    await expect(attempt).rejects.toThrow(
      `callmon kafka init --brokers ${brokers} --topic ${missing}`,
    );
    const admin = kafka.admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).not.toContain(missing); // and did not create it by accident
  });

  it('fails within seconds, naming the brokers, when none answers', async () => {
    const started = Date.now();
    await expect(EventPublisher.connect({ brokers: '127.0.0.1:1', topic })).rejects.toThrow(
      'cannot reach Kafka at 127.0.0.1:1',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
