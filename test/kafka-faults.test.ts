import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '@callmon/simulator';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type CliRun,
  callmon,
  dumpStore,
  kafkaInit,
  sqlWeeklyReport,
  storeRows,
  summaryOf,
} from './support/callmon-cli.ts';
import { KAFKA_SCRIPT } from './support/kafka.ts';
import { produceWithKcat, readTopic } from './support/kcat.ts';

/**
 * Faults against a real broker (architecture.md: "nothing accepted is lost; nothing is
 * counted twice"):
 *
 * 1. The consumer (`callmon ingest --kafka`) is killed with SIGKILL at ≥ 10 random moments
 *    while 200,000+ events stream in, and restarted each time: every accepted event is
 *    stored exactly once, and the figures equal those of a clean run of the same topic.
 * 2. The broker is stopped and restarted mid-stream: nothing is lost. That broker is a
 *    second one of this file's own (another port and data folder): the shared one on 9092
 *    serves other tests meanwhile.
 *
 * The kill moments come from a seeded generator; CALLMON_FAULT_SEED replays a run.
 */

const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const skip = Boolean(process.env.CALLMON_SKIP_KAFKA) || brokers === '';
const START = '2024-02-19T00:00:00Z';
const WEEK = '2024-W09';
const AS_OF = '2024-04-01T00:00:00Z';

const seed = Number(process.env.CALLMON_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 32));

/** mulberry32: the kill moments, reproducible from the seed. */
function random(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ingestArgs(on: string, topic: string, group: string, dataDir: string): string[] {
  return ['ingest', '--kafka', on, '--topic', topic, '--group', group, '--data-dir', dataDir];
}

const readTopicCount = (on: string, topic: string) => readTopic(on, topic).length;

const tail = (run: CliRun) => `${run.stderr.slice(-3000)}`;

async function deleteTopics(on: string, topics: string[], groups: string[]): Promise<void> {
  const admin = new Kafka({ brokers: on.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.deleteGroups(groups).catch(() => {});
  await admin.disconnect();
}

describe.skipIf(skip)(`kill -9 of the consumer while events stream (seed ${seed})`, () => {
  const run = randomUUID().slice(0, 8);
  const topic = `callmon.test.faults.${run}`;
  const faultedGroup = `callmon-faults-${run}`;
  const cleanGroup = `callmon-faults-clean-${run}`;
  let dir = '';
  const forces = [
    { force: 'northants', seed: 41 },
    { force: 'kent', seed: 42 },
  ];
  const DAYS = 26;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callmon-kafka-faults-'));
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await deleteTopics(brokers, [topic, `${topic}.live`], [faultedGroup, cleanGroup]);
  });

  it('stores every accepted event exactly once, with the figures of a clean run', async () => {
    kafkaInit(brokers, topic, 4);

    // The stream, cut in one slice per consumer run: each slice is produced (by kcat, a
    // few thousand events at a time) while that run starts, reads and is killed.
    const lines = forces
      .flatMap((f) =>
        [...simulate({ ...f, scenario: 'data-faults', start: START, days: DAYS })].map((line) => ({
          key: f.force,
          ...line,
        })),
      )
      .sort((a, b) => a.deliverAt - b.deliverAt);
    const expectedLines = lines.length;
    expect(expectedLines).toBeGreaterThanOrEqual(200_000);
    const RUNS = 10;
    const slice = (i: number) =>
      lines.slice(
        Math.floor((i * lines.length) / RUNS),
        Math.floor(((i + 1) * lines.length) / RUNS),
      );
    const stream = async (part: typeof lines) => {
      const step = Math.ceil(part.length / 5);
      for (let at = 0; at < part.length; at += step) {
        await produceWithKcat(brokers, topic, part.slice(at, at + step));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };

    const faulted = join(dir, 'faulted');
    const env = {
      CALLMON_BATCH_ROWS: '5000',
      CALLMON_LOG_LEVEL: 'debug', // "chunk committed" lines mark the kill points
    };
    // Each restart after a kill that came after the group join waits, in the join, until
    // the broker expires the dead member's session (the consumer's 30 s): most of this
    // test's time. A shorter session timeout for the consumer would shorten it.
    const next = random(seed);
    const kills: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Where it dies: while it starts (opening the store, joining the group), just after it
      // got its partitions (fetching, restoring live state, storing the first chunk), or
      // after its first commit (storing and committing chunk after chunk).
      const phase = i === 2 || i === 6 ? 'starting' : i % 4 === 0 ? 'assigned' : 'committing';
      const after = Math.round(
        phase === 'starting' ? 300 + next() * 1500 : next() * (phase === 'assigned' ? 1500 : 2500),
      );
      const mark = phase === 'assigned' ? '"partitions assigned"' : '"chunk committed"';
      let timer: NodeJS.Timeout | undefined;
      const kill = (child: ChildProcess) => {
        timer ??= setTimeout(() => child.kill('SIGKILL'), after);
      };
      const streaming = stream(slice(i));
      const killed = await callmon(ingestArgs(brokers, topic, faultedGroup, faulted), {
        env,
        onStarted: phase === 'starting' ? kill : undefined,
        onStderr: (stderr, child) => {
          if (phase !== 'starting' && stderr.includes(mark)) kill(child);
        },
      });
      clearTimeout(timer);
      await streaming;
      expect(killed.signal, `run ${i} was to be killed ${after} ms in:\n${tail(killed)}`).toBe(
        'SIGKILL',
      );
      kills.push(`${phase}+${after}`);
    }
    expect(readTopicCount(brokers, topic)).toBe(expectedLines);

    // Restarted once more, it catches up and stops when idle.
    const last = await callmon(
      [
        ...ingestArgs(brokers, topic, faultedGroup, faulted),
        '--exit-when-idle',
        '3',
        '--summary',
        'json',
      ],
      { env },
    );
    expect(last.status, tail(last)).toBe(0);

    const clean = join(dir, 'clean');
    const cleanRun = await callmon(
      [
        ...ingestArgs(brokers, topic, cleanGroup, clean),
        '--exit-when-idle',
        '3',
        '--summary',
        'json',
      ],
      { env },
    );
    expect(cleanRun.status, tail(cleanRun)).toBe(0);
    const cleanCounts = summaryOf(cleanRun);
    expect(
      cleanCounts.accepted + cleanCounts.duplicates + cleanCounts.conflicts + cleanCounts.rejected,
    ).toBe(expectedLines);
    // The killed runs stored part of the stream: the last run had less left to accept.
    expect(summaryOf(last).accepted).toBeLessThan(cleanCounts.accepted);

    // Physically: one row per accepted event, one rejected row per rejected position.
    const rows = storeRows(faulted);
    const cleanRows = storeRows(clean);
    expect(rows.eventRows).toBe(cleanCounts.accepted);
    expect(rows.distinctEvents).toBe(cleanCounts.accepted);
    expect(rows.rejectedRows).toBe(rows.rejectedPositions);

    for (const { force } of forces) {
      const got = dumpStore(faulted, force, WEEK, AS_OF);
      const want = dumpStore(clean, force, WEEK, AS_OF);
      expect(got.events, force).toEqual(want.events);
      expect(got.report, force).toEqual(want.report);
      expect(sqlWeeklyReport(faulted, force, WEEK, AS_OF), force).toEqual(want.report);
    }
    // And the audit trail of what was not accepted is the clean run's: a message read
    // again after a crash is the same message, not a duplicate of itself.
    expect.soft(rows.rejectedByReason).toEqual(cleanRows.rejectedByReason);
    console.info(`kafka-faults: SIGKILL at ${kills.join(', ')} ms (seed ${seed})`);
  }, 900_000);
});

/** `bash infra/local/kafka …` for this file's own broker. */
function ownBroker(command: 'up' | 'down' | 'reset', env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SCRIPT, command], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kafka ${command} failed: ${out}`)),
    );
  });
}

describe.skipIf(skip)('the broker stopped and restarted mid-stream', () => {
  const port = Number(process.env.CALLMON_FAULT_KAFKA_PORT ?? 19392);
  const own = `127.0.0.1:${port}`;
  let dir = '';
  const brokerEnv: NodeJS.ProcessEnv = { KAFKA_PORT: String(port), KAFKA_START_TIMEOUT: '120' };
  const topic = 'callmon.test.restart';
  const group = 'callmon-restart';
  const options = {
    force: 'kent',
    seed: 51,
    scenario: 'data-faults',
    start: START,
    days: 12,
  } as const;
  const simulateArgs = [
    'simulate',
    '--kafka',
    own,
    '--topic',
    topic,
    '--force',
    options.force,
    '--seed',
    String(options.seed),
    '--scenario',
    options.scenario,
    '--start',
    options.start,
    '--days',
    String(options.days),
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'callmon-kafka-restart-'));
    brokerEnv.KAFKA_STATE_DIR = join(dir, 'broker');
    await ownBroker('up', brokerEnv);
  }, 300_000);

  afterAll(async () => {
    if (!dir) return;
    await ownBroker('reset', brokerEnv).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('loses nothing: the store ends up with the events and figures of the simulation', async () => {
    kafkaInit(own, topic, 2);
    const dataDir = join(dir, 'store');
    // Every step has its own deadline, so a hang fails naming the step and its log.
    const began = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} at ${Date.now() - began} ms`);
    const finished = (name: string, run: CliRun) => {
      phase(`${name} ended (${run.status ?? run.signal}${run.timedOut ? ', timed out' : ''})`);
      expect(
        run.timedOut,
        `${name} hung; steps: ${phases.join('; ')}\n${tail(run)}`,
      ).toBeUndefined();
    };
    // The consumer runs through the outage; whether it rides it out or exits is its
    // business, as long as a restart (a supervisor's job) finishes the work.
    const consumer = callmon(
      [...ingestArgs(own, topic, group, dataDir), '--exit-when-idle', '10'],
      {
        timeoutMs: 240_000,
      },
    );

    let stopped: Promise<void> | undefined;
    const stopBroker = async () => {
      phase('broker stopping');
      await ownBroker('down', brokerEnv);
      phase('broker stopped');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await ownBroker('up', brokerEnv);
      phase('broker up again');
    };
    // Once the producer has had a first batch acknowledged, the broker goes down.
    const first = await callmon(simulateArgs, {
      timeoutMs: 120_000,
      onStderr: (stderr) => {
        if (stopped === undefined && /[1-9]\d* events published/.test(stderr)) {
          stopped = stopBroker();
        }
      },
    });
    expect(
      stopped,
      `the producer published nothing before it ended:\n${tail(first)}`,
    ).toBeDefined();
    finished('producer', first);
    await stopped;
    if (first.status !== 0) {
      // Fail-fast: the producer says what failed and exits 1; re-run, it sends everything
      // again (the consumer recognises the repeats by event id).
      expect(first.status, tail(first)).toBe(1);
      expect(first.stderr).toMatch(
        /publishing to callmon\.test\.restart failed|cannot reach Kafka/,
      );
      const again = await callmon(simulateArgs, { timeoutMs: 120_000 });
      finished('producer re-run', again);
      expect(again.status, tail(again)).toBe(0);
    }

    const during = await consumer;
    finished('consumer through the outage', during);
    const after = await callmon(
      [...ingestArgs(own, topic, group, dataDir), '--exit-when-idle', '3', '--summary', 'json'],
      { timeoutMs: 120_000 },
    );
    finished('consumer after the outage', after);
    expect(after.status, tail(after)).toBe(0);

    // The reference: the simulation ingested from a file, no Kafka involved.
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${[...simulate(options)].map(({ line }) => line).join('\n')}\n`);
    const referenceDir = join(dir, 'reference');
    const reference = await callmon([
      'ingest',
      '--file',
      file,
      '--data-dir',
      referenceDir,
      '--summary',
      'json',
    ]);
    expect(reference.status, tail(reference)).toBe(0);
    const accepted = summaryOf(reference).accepted;
    expect(accepted).toBeGreaterThan(20_000);

    const rows = storeRows(dataDir);
    expect(rows.eventRows).toBe(accepted);
    expect(rows.distinctEvents).toBe(accepted);
    const got = dumpStore(dataDir, options.force, WEEK, AS_OF);
    const want = dumpStore(referenceDir, options.force, WEEK, AS_OF);
    expect(got.events).toEqual(want.events);
    expect(got.report).toEqual(want.report);
    console.info(
      `kafka-faults: ${phases.join('; ')}; producer ${first.status === 0 ? 'rode out' : 'failed fast on'} the broker restart; ` +
        `consumer during it exited ${during.status}`,
    );
  }, 600_000);
});
