import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

/** A fresh topic and group of a test's own, with an admin and an idempotent producer. */
export interface TestTopic {
  topic: string;
  groupId: string;
  admin: Admin;
  producer: Producer;
  /** Disconnect, and delete the topic and the group. */
  cleanup(): Promise<void>;
}

export async function createTestTopic(
  brokers: string,
  name: string,
  partitions: number,
): Promise<TestTopic> {
  const runId = randomUUID().slice(0, 8);
  const topic = `callmon.test.${name}.${runId}`;
  const groupId = `callmon-test-${name}-${runId}`;
  const kafka = new Kafka({
    clientId: `callmon-${name}-test`,
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  return {
    topic,
    groupId,
    admin,
    producer,
    async cleanup() {
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    },
  };
}
