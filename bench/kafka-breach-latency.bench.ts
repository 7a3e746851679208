/**
 * Event produced → breach emitted, through Kafka, at a steady 1,000 events/s.
 *
 *   node --import tsx bench/kafka-breach-latency.bench.ts [--seconds 30] [--rate 1000]
 *       [--brokers 127.0.0.1:9092] [--prefill N]
 *
 * A `KafkaIngest` (the consumer `callmon ingest --kafka` runs: decode → validate → dedupe →
 * store in chDB → live engine) runs in this process with its LiveBus; an `EventPublisher`
 * (the producer of `callmon simulate --kafka`) publishes contract events dated around the
 * wall clock, paced every 10 ms:
 *
 * - 96 % background traffic: 101 calls presented one second ago and answered now;
 * - 2 % late 999 calls: presented 15 s ago and still ringing, past the 10 s answer target
 *   when they arrive, so the breach can be emitted as soon as the event is processed. Their
 *   latency is breach emitted − event produced (the goal: p99 < 250 ms);
 * - 2 % ringing 999 calls presented now and never answered: they breach on the wall clock
 *   at presented + 10 s. Their latency is breach emitted − max(deadline, produced): how long
 *   after the deadline the supervisor hears of it.
 *
 * `--prefill N` stores N events of the force (dated 30 days back, outside the live window),
 * then closes and opens the store again before the consumer starts, as on a member
 * restarted over an existing store: the store's in-memory filters of the force then start
 * from the hashes of its stored ids, read on its first look-up (before 2026-11-27 every
 * chunk's duplicate look-up was a query for such a force).
 *
 * The baseline in the same run: a bare kafkajs consumer (another group, same topic, same
 * 500 ms fetch wait as the ingest's) in this process, produced → message received (from the
 * message's create timestamp). What the ingest adds on top is the difference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Policy } from '../packages/compliance/src/index.ts';
import { formatUtc } from '../packages/events/src/index.ts';
import { createKafka, EventPublisher, ensureTopics } from '../packages/queue/src/index.ts';
import { openStore } from '../packages/store/src/index.ts';
import { generateEvents, toWire } from '../packages/store/src/testing.ts';
import { createLog, KafkaIngest, systemClock } from '../services/ingest/src/index.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string', default: '1000' },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
    prefill: { type: 'string', default: '0' },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const brokers = values.brokers;
const run = Date.now().toString(36);
const topic = `callmon.bench.latency.${run}`;
const group = `callmon-bench-latency-${run}`;
const force = 'bench';
const dir = mkdtempSync(join(tmpdir(), 'callmon-bench-latency-'));
const kafka = createKafka({ brokers, clientId: 'callmon-bench' });

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const describe = (name: string, samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(0);
  return `| ${name} | ${s.length} | ${f(percentile(s, 0.5))} | ${f(percentile(s, 0.95))} | ${f(percentile(s, 0.99))} | ${f(s.at(-1) ?? Number.NaN)} |`;
};

let store = await openStore({ dataDir: join(dir, 'store') });
const prefill = Number(values.prefill);
if (prefill > 0) {
  const old = [
    ...generateEvents({ force, start: Date.now() - 30 * 86_400_000, count: prefill, seed: 1 }),
  ];
  await store.insertEvents(
    old.map((event, offset) => ({
      event,
      raw: JSON.stringify(toWire(event)),
      arrivedAt: Date.now(),
      position: { kind: 'file', name: 'prefill', partition: 0, offset },
    })),
    { dedupToken: `prefill:${run}` },
  );
  // Closed and opened again: the consumer's store has rows it did not write, as after a restart.
  await store.close();
  store = await openStore({ dataDir: join(dir, 'store') });
}
let ingest: KafkaIngest | undefined;
try {
  await ensureTopics(kafka, [{ topic, partitions: 1 }], { replicationFactor: 1 });
  const publisher = await EventPublisher.connect({ brokers, topic, clientId: 'callmon-bench' });
  ingest = await KafkaIngest.start({
    brokers,
    topic,
    groupId: group,
    store,
    log: createLog('warn', 'bench'),
    clock: systemClock,
    policy: Policy.ukDefault(),
    batchRows: 10_000,
  });

  const delivered: number[] = [];
  const baseline = kafka.consumer({ groupId: `${group}-baseline`, maxWaitTimeInMs: 500 });
  await baseline.connect();
  await baseline.subscribe({ topic, fromBeginning: true });
  await baseline.run({
    eachMessage: async ({ message }) => {
      delivered.push(Date.now() - Number(message.timestamp));
    },
  });

  /** call id → [kind, produced at, deadline]. */
  const expected = new Map<
    string,
    { kind: 'late' | 'ringing'; producedAt: number; deadline: number }
  >();
  const late: number[] = [];
  const ringing: number[] = [];
  ingest.bus.on('alert', (alert) => {
    const now = Date.now();
    if (alert.kind !== 'breach') return;
    const call = expected.get(alert.item);
    if (call === undefined) return;
    expected.delete(alert.item);
    if (call.kind === 'late') late.push(now - call.producedAt);
    else ringing.push(now - Math.max(call.deadline, call.producedAt));
  });

  // Let the member join and restore (an empty store) before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  const perTick = rate / 100;
  let n = 0;
  const line = (event: Record<string, unknown>) =>
    JSON.stringify({ v: 1, force, source: 'bench', ...event });
  const started = Date.now();
  for (let tick = 0; tick < seconds * 100; tick++) {
    const due = started + tick * 10;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let i = 0; i < perTick; i++) {
      const now = Date.now();
      const kind = n % 50 === 0 ? 'late' : n % 50 === 25 ? 'ringing' : 'background';
      const call = `c${n}`;
      if (kind === 'background') {
        // A 101 call is two events: presented a second ago, answered now.
        publisher.publish({
          key: force,
          value: line({
            id: `${call}-p`,
            type: 'call.presented',
            at: formatUtc(now - 1000),
            call,
            channel: '101',
          }),
        });
        publisher.publish({
          key: force,
          value: line({ id: `${call}-a`, type: 'call.answered', at: formatUtc(now), call }),
        });
        i++;
        n += 2;
        continue;
      }
      const presentedAt = kind === 'late' ? now - 15_000 : now;
      expected.set(call, { kind, producedAt: now, deadline: presentedAt + 10_000 });
      publisher.publish({
        key: force,
        value: line({
          id: `${call}-p`,
          type: 'call.presented',
          at: formatUtc(presentedAt),
          call,
          channel: '999',
        }),
      });
      n++;
    }
  }
  await publisher.close();
  const produceSeconds = (Date.now() - started) / 1000;
  // The last ringing calls breach 10 s after they were presented.
  const deadline = Date.now() + 15_000;
  while (expected.size > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));

  console.log(
    `\n${n} events in ${produceSeconds.toFixed(1)} s (${Math.round(n / produceSeconds)} events/s), 1 partition, ${prefill} events stored before`,
  );
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), load avg ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log('| ms | breaches | p50 | p95 | p99 | max |');
  console.log('|---|---|---|---|---|---|');
  console.log(describe('baseline: produced → received by a bare kafkajs consumer', delivered));
  console.log(describe('late 999 call: produced → breach emitted', late));
  console.log(describe('ringing 999 call: deadline → breach emitted', ringing));
  await baseline.disconnect();
  if (expected.size > 0) {
    const missing = [...expected].map(
      ([call, c]) => `${call} (${c.kind}, produced ${c.producedAt - started} ms in)`,
    );
    console.log(
      `\n${expected.size} expected breaches never came: ${missing.slice(0, 10).join(', ')}`,
    );
  }
  const sorted = [...late].sort((a, b) => a - b);
  console.log(
    `\ngoal p99 < 250 ms (produced → breach emitted): ${percentile(sorted, 0.99) < 250 ? 'met' : 'not met'}`,
  );
} finally {
  await ingest?.stop().catch(() => {});
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.deleteGroups([group, `${group}-baseline`]).catch(() => {});
  await admin.disconnect();
}
