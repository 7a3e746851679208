// A consumer that fails to join its group must let its process end. Found in CI: the broker
// restarted while `callmon ingest --kafka --exit-when-idle` was joining, kafkajs reported the
// failed join as a crash after run() had returned, and the idle timer started afterwards
// kept the finished process alive until it was killed.
//
// The failure here is made deterministic: a session timeout below the broker's
// group.min.session.timeout.ms (6 s by default) is refused at JoinGroup, non-retriably.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const fixture = join(import.meta.dirname, '../test-fixtures/refused-join.ts');

describe.skipIf(skip)('BatchConsumer whose group join is refused', () => {
  const topic = `callmon.test.refused-join.${randomUUID().slice(0, 8)}`;
  const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  });

  it('rejects `done` with the broker’s reason, and its process then ends by itself', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const child = spawn('node', ['--import', 'tsx', fixture, brokers, topic], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(killer);
    expect(signal, `the process did not end by itself:\n${output}`).toBeNull();
    expect(code, output).toBe(0);
    expect(output).toMatch(/^done rejected: .*session timeout/im);
  }, 60_000);
});
