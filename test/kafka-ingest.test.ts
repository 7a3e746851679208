// `callmon ingest --kafka` as operators and scripts run it, against the real broker: an exact
// ingest of a topic with valid, malformed, duplicate and conflicting events over several
// partitions; re-runs that accept nothing; committed offsets at the end of every partition;
// a graceful SIGTERM. Every expectation is computed from what the test produced.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallmonEvent } from '@callmon/events';
import { generateEvents, toWire } from '@callmon/store/testing';
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLI } from './support/callmon-cli.ts';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const root = join(import.meta.dirname, '..');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; `onStderr` sees its log as it comes (to signal it mid-run). */
function callmon(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [...CLI, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const summaryOf = (run: Run) => JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);

/** The accepted events of a force in a store, each once, read in a process of its own. */
function storedIds(dataDir: string, force: string): string[] {
  const run = spawnSync(
    'node',
    [
      '--import',
      'tsx',
      join(root, 'test/support/dump-store.ts'),
      dataDir,
      force,
      '2024-W08',
      '2024-03-01T00:00:00Z',
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (run.status !== 0) throw new Error(`dump failed: ${run.stderr}`);
  const { events } = JSON.parse(run.stdout) as { events: CallmonEvent[] };
  return events.map((event) => event.id).sort();
}

const line = (event: CallmonEvent) => JSON.stringify(toWire(event));

describe.skipIf(skip)('callmon ingest --kafka', () => {
  const runId = randomUUID().slice(0, 8);
  const kafka = new Kafka({
    clientId: 'callmon-kafka-ingest-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  let admin: Admin;
  let producer: Producer;
  const topics: string[] = [];
  const groups: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'callmon-kafka-ingest-'));

  async function createTopic(name: string, partitions: number): Promise<string> {
    const topic = `callmon.test.ingest.${name}.${runId}`;
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    topics.push(topic);
    return topic;
  }

  function group(name: string): string {
    const id = `callmon-test-ingest-${name}-${runId}`;
    groups.push(id);
    return id;
  }

  /** Send in order, in requests of up to 500 messages; the partition of each key. */
  async function send(
    topic: string,
    messages: { key: string; value: string | null }[],
  ): Promise<Map<string, number>> {
    const partitionOf = new Map<string, number>();
    for (let start = 0; start < messages.length; start += 500) {
      await producer.send({ topic, messages: messages.slice(start, start + 500) });
    }
    // The default partitioner is a pure function of the key: ask it where each key went.
    const partitioner = Partitioners.DefaultPartitioner();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitionMetadata = meta.topics[0]!.partitions;
    for (const { key } of messages) {
      if (!partitionOf.has(key)) {
        partitionOf.set(
          key,
          partitioner({ topic, partitionMetadata, message: { key, value: '' } }),
        );
      }
    }
    return partitionOf;
  }

  async function committedAndEnd(topic: string, groupId: string) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    // -1: nothing committed, the same position as 0 on a partition that was always empty.
    const committed = new Map(
      offsets!.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]),
    );
    const end = new Map(
      (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
    );
    return { committed, end };
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await producer?.disconnect();
    if (admin) {
      await admin.deleteTopics({ topics }).catch(() => {});
      await admin.deleteGroups(groups).catch(() => {});
      await admin.disconnect();
    }
  });

  describe('a topic of valid, malformed, duplicate and conflicting events', () => {
    const FORCES = ['northants', 'cleveland', 'kent', 'essex'];
    const PER_FORCE = 150;
    const generated = new Map<string, CallmonEvent[]>();
    const expected = { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0 };
    let topic: string;
    let partitionOf: Map<string, number>;
    const dataDir = join(dir, 'exact');
    const groupId = group('exact');

    beforeAll(async () => {
      topic = await createTopic('exact', 3);
      const messages: { key: string; value: string | null }[] = [];
      for (const [index, force] of FORCES.entries()) {
        const events = [
          ...generateEvents({
            force,
            start: Date.parse('2024-02-19T08:00:00Z'),
            count: PER_FORCE,
            seed: index + 1,
          }),
        ];
        generated.set(force, events);
        expected.accepted += events.length;
        for (const [position, event] of events.entries()) {
          messages.push({ key: force, value: line(event) });
          if (position % 25 === 0) {
            messages.push({ key: force, value: line(event) }); // a redelivery: duplicate
            expected.duplicates++;
          }
          if (position % 40 === 7) {
            // Same id, another time: a conflict.
            messages.push({ key: force, value: line({ ...event, at: event.at + 1000 }) });
            expected.conflicts++;
          }
          if (position % 50 === 3) {
            messages.push({ key: force, value: '{"v":1,"id":"broken"' }); // invalid_json
            messages.push({
              key: force,
              value: line({ ...event, v: 2 } as unknown as CallmonEvent),
            });
            messages.push({ key: force, value: null }); // a tombstone: no JSON at all
            expected.rejected += 3;
          }
        }
      }
      partitionOf = await send(topic, messages);
    });

    it('spread over at least two partitions', () => {
      expect(new Set(partitionOf.values()).size).toBeGreaterThanOrEqual(2);
    });

    it('ingests every message exactly once, commits to the end of every partition, stores exactly the valid first copies', async () => {
      const run = await callmon(
        [
          'ingest',
          '--kafka',
          brokers,
          '--topic',
          topic,
          '--group',
          groupId,
          '--data-dir',
          dataDir,
          '--exit-when-idle',
          '2',
          '--summary',
          'json',
        ],
        { CALLMON_BATCH_ROWS: '64' },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(summaryOf(run)).toEqual(expected);

      const { committed, end } = await committedAndEnd(topic, groupId);
      expect(committed).toEqual(end);
      expect([...end.values()].reduce((sum, high) => sum + high, 0)).toBe(
        expected.accepted + expected.duplicates + expected.conflicts + expected.rejected,
      );

      for (const force of FORCES) {
        expect(storedIds(dataDir, force), force).toEqual(
          generated
            .get(force)!
            .map((event) => event.id)
            .sort(),
        );
      }
    }, 120_000);

    it('run again in the same group: nothing is read again, nothing accepted', async () => {
      const run = await callmon(
        [
          'ingest',
          '--kafka',
          brokers,
          '--topic',
          topic,
          '--group',
          groupId,
          '--data-dir',
          dataDir,
          '--exit-when-idle',
          '2',
          '--summary',
          'json',
        ],
        { CALLMON_BATCH_ROWS: '64' },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(summaryOf(run)).toEqual({ accepted: 0, duplicates: 0, conflicts: 0, rejected: 0 });
    }, 120_000);

    it('a new group re-reads the whole topic into the same store: every event is a duplicate, none counted twice', async () => {
      const run = await callmon(
        [
          'ingest',
          '--kafka',
          brokers,
          '--topic',
          topic,
          '--group',
          group('again'),
          '--data-dir',
          dataDir,
          '--exit-when-idle',
          '2',
          '--summary',
          'json',
        ],
        // On the consumer's own thread (the other runs use the default parse worker): its
        // rows, fingerprints and rejections must decide exactly as the worker's did.
        { CALLMON_BATCH_ROWS: '100', CALLMON_PARSE_WORKERS: '0' },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(summaryOf(run)).toEqual({
        accepted: 0,
        duplicates: expected.accepted + expected.duplicates,
        conflicts: expected.conflicts,
        rejected: expected.rejected,
      });
      expect(storedIds(dataDir, 'kent')).toHaveLength(PER_FORCE);
    }, 120_000);
  });

  it('SIGTERM finishes the chunk in hand, commits it and leaves the group; a restart takes the rest', async () => {
    const topic = await createTopic('sigterm', 2);
    const groupId = group('sigterm');
    const dataDir = join(dir, 'sigterm');
    const events = [
      ...generateEvents({
        force: 'northants',
        start: Date.parse('2024-02-19T08:00:00Z'),
        count: 12_000,
      }),
      ...generateEvents({
        force: 'kent',
        start: Date.parse('2024-02-19T08:00:00Z'),
        count: 12_000,
      }),
    ];
    await send(
      topic,
      events.map((event) => ({ key: event.force, value: line(event) })),
    );
    const args = [
      'ingest',
      '--kafka',
      brokers,
      '--topic',
      topic,
      '--group',
      groupId,
      '--data-dir',
      dataDir,
      '--summary',
      'json',
    ];
    let signalled = false;
    const first = await callmon(
      args,
      { CALLMON_BATCH_ROWS: '200', CALLMON_LOG_LEVEL: 'debug' },
      (stderr, child) => {
        if (!signalled && (stderr.match(/"chunk committed"/g)?.length ?? 0) >= 3) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    );
    expect(first.status, first.stderr.slice(-3000)).toBe(0);
    const stopped = summaryOf(first);
    expect(stopped.accepted).toBeGreaterThan(0);
    expect(stopped.accepted).toBeLessThan(events.length); // stopped mid-stream
    // Everything counted was committed, and nothing more.
    const { committed } = await committedAndEnd(topic, groupId);
    expect(
      [...committed.values()].reduce((sum, offset) => sum + Math.max(0, offset), 0),
      first.stderr.slice(-6000),
    ).toBe(stopped.accepted);
    // It left the group rather than waiting out its session.
    const [description] = (await admin.describeGroups([groupId])).groups;
    expect(description!.state).toBe('Empty');

    const rest = await callmon([...args, '--exit-when-idle', '2'], { CALLMON_BATCH_ROWS: '200' });
    expect(rest.status, rest.stderr).toBe(0);
    expect(summaryOf(rest)).toEqual({
      accepted: events.length - stopped.accepted,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
    });
    expect(storedIds(dataDir, 'kent')).toHaveLength(12_000);
  }, 180_000);

  it('a missing topic, an unreachable broker and bad flags get clear answers', async () => {
    const missing = await callmon([
      'ingest',
      '--kafka',
      brokers,
      '--topic',
      `callmon.test.absent.${runId}`,
      '--data-dir',
      join(dir, 'absent'),
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/topic "callmon\.test\.absent\.[^"]+" does not exist/);

    const unreachable = await callmon([
      'ingest',
      '--kafka',
      '127.0.0.1:1',
      '--data-dir',
      join(dir, 'unreachable'),
      '--summary',
      'json',
    ]);
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('Kafka at 127.0.0.1:1: ');
    expect(summaryOf(unreachable)).toEqual({
      accepted: 0,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
    });

    const noStore = await callmon([
      'ingest',
      '--kafka',
      brokers,
      '--clickhouse',
      'http://ingest:s3cret@127.0.0.1:1',
    ]);
    expect(noStore.status).toBe(1);
    expect(noStore.stderr).toContain('cannot open ClickHouse at http://127.0.0.1:1');
    expect(noStore.stderr).not.toMatch(/callmon ingest:.*s3cret/);

    const both = await callmon(['ingest', '--kafka', brokers, '--file', 'x.ndjson']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('--file and --kafka exclude each other');

    const badIdle = await callmon(['ingest', '--kafka', brokers, '--exit-when-idle', 'soon']);
    expect(badIdle.status).toBe(2);
    expect(badIdle.stderr).toContain('--exit-when-idle');

    const badBroker = await callmon(['ingest', '--kafka', 'nohost']);
    expect(badBroker.status).toBe(2);
    expect(badBroker.stderr).toContain('--kafka');

    const stores = await callmon([
      'ingest',
      '--kafka',
      brokers,
      '--data-dir',
      'd',
      '--clickhouse',
      'http://localhost:8123',
    ]);
    expect(stores.status).toBe(2);
    expect(stores.stderr).toContain('--data-dir and --clickhouse exclude each other');
  }, 60_000);
});
