import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { simulate } from '@callmon/simulator';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { callmon as callmonRun, callmonSync, kafkaInit } from './support/callmon-cli.ts';
import { readTopic } from './support/kcat.ts';

/**
 * `callmon kafka init` and `callmon simulate --kafka` against the real broker; what reached
 * the topic is read back with kcat, a client that shares no code with ours.
 */

const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const skip = Boolean(process.env.CALLMON_SKIP_KAFKA) || brokers === '';

// KAFKA_BROKERS emptied: the flags under test must be what names the brokers.
const callmon = (args: string[]) => callmonSync(args, { KAFKA_BROKERS: '' });
const callmonAsync = (args: string[]) => callmonRun(args, { env: { KAFKA_BROKERS: '' } });

describe.skipIf(skip)('callmon kafka init / simulate --kafka (real broker)', () => {
  const run = randomUUID().slice(0, 8);
  const topic = `callmon.test.cli.${run}.events`;
  const live = `callmon.test.cli.${run}.live`;
  const paced = `callmon.test.cli.${run}.paced`;
  const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, live, paced, `${paced}.live`] }).catch(() => {});
    await admin.disconnect();
  });

  it('kafka init creates the events and live topics, and a second run changes nothing', async () => {
    const args = ['kafka', 'init', '--brokers', brokers, '--topic', topic, '--live-topic', live];
    const first = callmon([...args, '--partitions', '3']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(`${topic}: created, 3 partitions\n${live}: created, 3 partitions\n`);

    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [topic, live] });
    await admin.disconnect();
    expect(metadata.topics.map((t) => t.partitions.length)).toEqual([3, 3]);

    const second = callmon([...args, '--partitions', '5']);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(`${topic}: exists, 3 partitions\n${live}: exists, 3 partitions\n`);
  });

  it('kafka init answers bad input with a usage error naming the flag', () => {
    const none = callmon(['kafka', 'init']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--brokers is required');
    const bad = callmon(['kafka', 'init', '--brokers', 'localhost']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid Kafka broker "localhost"');
    const partitions = callmon(['kafka', 'init', '--brokers', brokers, '--partitions', '0']);
    expect(partitions.status).toBe(2);
    expect(partitions.stderr).toContain('--partitions must be a whole number');
    const action = callmon(['kafka', 'drop']);
    expect(action.status).toBe(2);
    expect(action.stderr).toContain('unknown action "drop"');
  });

  it('kafka init fails fast, exit 1, when no broker answers', () => {
    const dead = callmon(['kafka', 'init', '--brokers', '127.0.0.1:1', '--topic', topic]);
    expect(dead.status).toBe(1);
    expect(dead.stderr).toContain('Kafka at 127.0.0.1:1');
    expect(dead.ms).toBeLessThan(20_000);
  });

  it('simulate --kafka publishes exactly the simulation, in order, keyed by force', async () => {
    const options = { seed: 5, scenario: 'data-faults', days: 1, force: 'kent' } as const;
    const result = await callmonAsync([
      'simulate',
      '--kafka',
      brokers,
      '--topic',
      topic,
      '--seed',
      '5',
      '--scenario',
      'data-faults',
      '--days',
      '1',
      '--force',
      'kent',
    ]);
    expect(result.stderr).toMatch(/done, \d+ events published/);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    const expected = [...simulate(options)].map(({ line }) => line);
    const read = readTopic(brokers, topic);
    expect(read.every((m) => m.key === 'kent')).toBe(true);
    expect(new Set(read.map((m) => m.partition)).size).toBe(1);
    expect(read.sort((a, b) => a.offset - b.offset).map((m) => m.payload)).toEqual(expected);
  }, 60_000);

  it('simulate --speed paces the events: simulated time runs X times real time', async () => {
    kafkaInit(brokers, paced, 1);
    const start = '2024-02-19T08:00:00Z';
    // Ten simulated hours a second. The last events of 1.5 hours' calls and incidents (a
    // scheduled incident closing two days later) come about 50 simulated hours after the
    // first: 5 s of real time.
    const speed = 36_000;
    const result = await callmonAsync([
      'simulate',
      '--kafka',
      brokers,
      '--topic',
      paced,
      '--start',
      start,
      '--days',
      String(1.5 / 24),
      '--speed',
      String(speed),
    ]);
    expect(result.status).toBe(0);
    const lines = [...simulate({ start, days: 1.5 / 24 })];
    const read = readTopic(brokers, paced).sort((a, b) => a.offset - b.offset);
    expect(read.map((m) => m.payload)).toEqual(lines.map((l) => l.line));
    // kcat -J gives each message's create time: it follows the simulated schedule.
    const ts = readTimestamps(paced);
    const first = lines[0]!.deliverAt;
    for (const i of [Math.floor(lines.length / 2), lines.length - 1]) {
      const due = (lines[i]!.deliverAt - first) / speed;
      expect(Math.abs(ts[i]! - ts[0]! - due), `message ${i}`).toBeLessThan(400);
    }
    expect(ts.at(-1)! - ts[0]!).toBeGreaterThan(3000);
  }, 60_000);

  it('simulate --kafka: a dead broker is exit 1 within seconds; a missing topic is exit 1 naming it', async () => {
    const dead = await callmonAsync(['simulate', '--kafka', '127.0.0.1:1', '--days', '1']);
    expect(dead.status).toBe(1);
    expect(dead.stderr).toContain('cannot reach Kafka at 127.0.0.1:1');
    expect(dead.ms).toBeLessThan(20_000);
    const missing = `callmon.test.cli.${run}.missing`;
    const none = callmon(['simulate', '--kafka', brokers, '--topic', missing]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(`topic ${missing} does not exist`);
  }, 60_000);

  it('simulate: Kafka flags that do not fit are usage errors (exit 2) naming the flag', () => {
    for (const [args, message] of [
      [['--speed', '2'], '--speed needs --kafka'],
      [['--topic', 'x'], '--topic needs --kafka'],
      [['--kafka', brokers, '--out', '/tmp/x'], '--out and --kafka exclude each other'],
      [['--kafka', 'nohost'], '--kafka: invalid Kafka broker "nohost"'],
      [['--kafka', brokers, '--speed', '0'], '--speed expects a positive number'],
    ] as const) {
      const result = callmon(['simulate', ...args]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
    }
  });
});

function readTimestamps(topic: string): number[] {
  const out = spawnSync('kcat', ['-b', brokers, '-C', '-t', topic, '-e', '-q', '-f', '%o %T\n'], {
    encoding: 'utf8',
  }).stdout;
  return out
    .trim()
    .split('\n')
    .map((line) => line.split(' ').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0])
    .map(([, ts]) => ts);
}
