// Vitest globalSetup: makes a Kafka broker available to the test workers.
// Set CALLMON_SKIP_KAFKA=1 to skip (tests that need Kafka then skip themselves).
import type { TestProject } from 'vitest/node';
import { ensureKafka, stopKafka } from './kafka.ts';

export default async function setup(project: TestProject) {
  if (process.env.CALLMON_SKIP_KAFKA) return;
  const { brokers, startedByUs } = await ensureKafka();
  // Workers are started after this and inherit the environment; inject() works as well.
  process.env.KAFKA_BROKERS = brokers;
  project.provide('kafkaBrokers', brokers);
  return async () => {
    if (startedByUs) await stopKafka();
  };
}
