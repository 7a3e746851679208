import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

/** A topic and group of a test's own (fresh names), with an admin and an idempotent producer. */
export interface TestTopic {
  topic: string;
  groupId: string;
  admin: Admin;
  producer: Producer;
  /** Connect, and create the topic with `partitions` partitions. */
  create(partitions: number): Promise<void>;
  /** Disconnect, and delete the topic and the group. */
  cleanup(): Promise<void>;
}

export function testTopic(brokers: string, name: string): TestTopic {
  const runId = randomUUID().slice(0, 8);
  const topic = `callmon.test.${name}.${runId}`;
  const groupId = `callmon-test-${name}-${runId}`;
  const kafka = new Kafka({
    clientId: `callmon-${name}-test`,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  return {
    topic,
    groupId,
    admin,
    producer,
    async create(partitions) {
      await admin.connect();
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      await producer.connect();
    },
    async cleanup() {
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect().catch(() => {});
    },
  };
}
