/**
 * Kafka → store: `callmon ingest --kafka` against kcat reading the same topic.
 *
 *   node --import tsx bench/kafka-ingest.bench.ts [--events 300000] [--partitions 4]
 *       [--brokers 127.0.0.1:9092] [--batch-rows N (default: the CLI's own)] [--recent]
 *
 * 1. Simulates two forces (`normal` scenario, from 2024-02-19) until there are at least N
 *    events and produces them with kcat into a new topic (`callmon kafka init`, P
 *    partitions). Those events lie before the live engines' horizon (now − 7 d − 1 h), so
 *    the engines refuse them at once: the rate is a backfill's. With `--recent`, as many
 *    forces as it takes simulate the last 7 days up to now instead, so that every event is
 *    also evaluated live, as a stream catching up after an outage would be.
 * 2. Baseline: `kcat -C -e` reads the whole topic to /dev/null (librdkafka, C, its default
 *    configuration), timed from spawn to exit; once before and once after the ingest, the
 *    faster counted. For context only, also timed: when each read's first and last
 *    messages arrived, and a read with `-X fetch.wait.max.ms=10`. librdkafka's fetches
 *    wait up to `fetch.wait.max.ms` (500 ms by default) for data, and on a topic with
 *    empty partitions its first messages often arrive only after one such wait, so a
 *    default read takes ≈ 0.65 s or ≈ 1.15 s of which a good part is waiting; with 10 ms
 *    it reads the same messages in ≈ 0.15 s (BENCHMARKS.md).
 * 3. The real CLI, `callmon ingest --kafka B --topic T --group G --data-dir D
 *    --exit-when-idle 1 --summary json` on a fresh chDB folder, timed from spawn to the
 *    last committed chunk (the consumer's own log, debug level), so the idle wait at the
 *    end is not counted; also from the partitions' assignment to the last commit.
 * 4. Checks the ingest accounted for every message, prints events/s and the ratio to kcat.
 *
 * Goal (issue 4): ≥ 50,000 events/s and ≥ 0.3 of kcat's rate. The topic is deleted after.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka } from '../packages/queue/src/index.ts';
import { simulate } from '../services/simulator/src/index.ts';
import { CLI, kafkaInit } from '../test/support/callmon-cli.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    partitions: { type: 'string', default: '4' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    'batch-rows': { type: 'string' },
    recent: { type: 'boolean', default: false },
  },
});
const wanted = Number(values.events);
const brokers = values.brokers;
const run = `${Date.now().toString(36)}`;
const topic = `callmon.bench.ingest.${run}`;
const group = `callmon-bench-ingest-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'callmon-bench-kafka-'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');

/** One `kcat -C -e` read of the whole topic: spawn → first message, last message, exit. */
interface KcatRead {
  ms: number;
  firstMs: number;
  lastMs: number;
  count: number;
}

function kcatRead(extra: string[] = []): Promise<KcatRead> {
  const started = performance.now();
  const child = spawn('kcat', [
    '-b',
    brokers,
    '-C',
    '-t',
    topic,
    '-e',
    '-q',
    '-o',
    'beginning',
    '-f',
    '\n',
    ...extra,
  ]);
  let count = 0;
  let firstMs = 0;
  let lastMs = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const now = performance.now() - started;
    if (count === 0) firstMs = now;
    for (const byte of chunk) if (byte === 0x0a) count++;
    lastMs = now;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status) => {
      if (status !== 0) fail(new Error(`kcat -C exited ${status}: ${stderr}`));
      else done({ ms: performance.now() - started, firstMs, lastMs, count });
    });
  });
}

const kcatTimes = (read: KcatRead) =>
  `${fmt(read.ms)} ms (first message at ${fmt(read.firstMs)}, last at ${fmt(read.lastMs)})`;

try {
  // Simulated days of two forces until there are enough events (~4,200 a day each); or
  // (--recent) the last 7 days of as many forces as that takes.
  const days = values.recent ? 7 : Math.max(1, Math.ceil(wanted / 2 / 4000));
  const start = values.recent
    ? new Date(Date.now() - 7 * 86_400_000).toISOString()
    : '2024-02-19T00:00:00Z';
  const forceCount = values.recent ? Math.max(1, Math.ceil(wanted / days / 4000)) : 2;
  const forces = Array.from({ length: forceCount }, (_, i) =>
    i === 0 ? 'northants' : i === 1 ? 'kent' : `force-${i}`,
  );
  const lines = forces
    .flatMap((force, i) =>
      [...simulate({ force, seed: 7 + i, start, days })]
        // A live-dated run stops at now: the simulator knows no wall clock.
        .filter((l) => !values.recent || Date.parse(JSON.parse(l.line).at ?? '') <= Date.now())
        .map((l) => `${force}\t${l.line}`),
    )
    .slice(0, Math.max(wanted, 1));
  kafkaInit(brokers, topic, Number(values.partitions));
  const produce = spawnSync(
    'kcat',
    ['-b', brokers, '-P', '-t', topic, '-K', '\t', '-X', 'linger.ms=20'],
    {
      input: `${lines.join('\n')}\n`,
      maxBuffer: 1 << 30,
    },
  );
  if (produce.status !== 0) throw new Error(`kcat -P: ${produce.stderr}`);
  const total = lines.length;

  const before = await kcatRead();
  if (before.count !== total) throw new Error(`kcat read ${before.count} of ${total} messages`);

  const dataDir = join(dir, 'store');
  const started = Date.now();
  let assignedAt = 0;
  let lastCommitAt = 0;
  let buffered = '';
  const ingest = await new Promise<{ status: number | null; stdout: string; stderr: string }>(
    (done, fail) => {
      const child = spawn(
        'node',
        [
          ...CLI,
          'ingest',
          '--kafka',
          brokers,
          '--topic',
          topic,
          '--group',
          group,
          '--data-dir',
          dataDir,
          '--exit-when-idle',
          '1',
          '--summary',
          'json',
        ],
        {
          cwd: root,
          env: {
            ...process.env,
            CALLMON_LOG_LEVEL: 'debug',
            ...(values['batch-rows'] === undefined
              ? {}
              : { CALLMON_BATCH_ROWS: values['batch-rows'] }),
          },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        stderr = (stderr + text).slice(-20_000);
        buffered += text;
        const parts = buffered.split('\n');
        buffered = parts.pop()!;
        for (const part of parts) {
          if (!part.startsWith('{')) continue;
          const entry = JSON.parse(part) as { time: number; msg: string };
          if (entry.msg === 'partitions assigned' && assignedAt === 0) assignedAt = entry.time;
          if (entry.msg === 'chunk committed') lastCommitAt = entry.time;
        }
      });
      child.on('error', fail);
      child.on('close', (status) => done({ status, stdout, stderr }));
    },
  );
  if (ingest.status !== 0) throw new Error(`ingest exited ${ingest.status}: ${ingest.stderr}`);
  const summary = JSON.parse(ingest.stdout.trim().split('\n').at(-1)!);
  const accounted = summary.accepted + summary.duplicates + summary.conflicts + summary.rejected;
  if (accounted !== total) throw new Error(`ingest accounted for ${accounted} of ${total}`);

  const after = await kcatRead();
  const noWait = await kcatRead(['-X', 'fetch.wait.max.ms=10']);
  for (const read of [after, noWait]) {
    if (read.count !== total) throw new Error(`kcat read ${read.count} of ${total} messages`);
  }
  const kcatMs = Math.min(before.ms, after.ms);
  const kcatRate = total / (kcatMs / 1000);
  const noWaitRate = total / (noWait.ms / 1000);
  const fromStart = total / ((lastCommitAt - started) / 1000);
  const fromAssigned = total / ((lastCommitAt - assignedAt) / 1000);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\n${fmt(total)} events of ${forces.length} forces (${values.recent ? 'the last 7 days: evaluated live' : 'from 2024-02-19: before the live horizon'}), ${values.partitions} partitions, batch rows ${values['batch-rows'] ?? 'default'}`,
  );
  console.log(
    `machine: ${cpus().length} CPUs (${cpu}), load avg ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| | time | events/s | of kcat |');
  console.log('|---|---|---|---|');
  console.log(
    `| \`kcat -C\` to /dev/null (best of 2: ${fmt(before.ms)} / ${fmt(after.ms)} ms) | ${fmt(kcatMs)} ms | ${fmt(kcatRate)} | 1 |`,
  );
  console.log(
    `| context: \`kcat -C -X fetch.wait.max.ms=10\` (spawn → exit) | ${fmt(noWait.ms)} ms | ${fmt(noWaitRate)} | ${(noWaitRate / kcatRate).toFixed(2)} |`,
  );
  console.log(
    `| \`callmon ingest --kafka\`, spawn → last commit | ${fmt(lastCommitAt - started)} ms | ${fmt(fromStart)} | ${(fromStart / kcatRate).toFixed(3)} |`,
  );
  console.log(
    `| \`callmon ingest --kafka\`, assigned → last commit | ${fmt(lastCommitAt - assignedAt)} ms | ${fmt(fromAssigned)} | ${(fromAssigned / kcatRate).toFixed(3)} |`,
  );
  console.log(
    `\nkcat's reads, spawn → exit: before ${kcatTimes(before)}; after ${kcatTimes(after)}; with fetch.wait.max.ms=10 ${kcatTimes(noWait)}`,
  );
  console.log(
    `goal ≥ 50,000 events/s: ${fromAssigned >= 50_000 ? 'met' : 'not met'}; ≥ 0.3 of kcat: ${fromAssigned / kcatRate >= 0.3 ? 'met' : 'not met'} (assigned → last commit)`,
  );
  console.log(
    `for context, against kcat with fetch.wait.max.ms=10: ${(fromAssigned / noWaitRate).toFixed(3)} (assigned → last commit)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  const admin = createKafka({ brokers, clientId: 'callmon-bench' }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, `${topic}.live`] }).catch(() => {});
  await admin.deleteGroups([group]).catch(() => {});
  await admin.disconnect();
}
