/**
 * Live engine throughput against plain JSON.parse of the same NDJSON lines, in one
 * process and one run (the goal: engine time ≤ parse time), and heap bytes per
 * pending call (with the events kept for their ids, and with ids only: `firstCopiesOnly`).
 *
 *   node --expose-gc --import tsx packages/compliance/bench/live-engine.bench.ts [events]
 */
import { type CallmonEvent, parseEvent } from '@callmon/events';
import { LiveEngine } from '../src/live-engine.ts';
import { Policy } from '../src/policy.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const FORCE = 'northants';
const START = Date.parse('2024-02-19T00:00:00Z');

/** A seeded PRNG (mulberry32) so every run measures the same stream. */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A control room's stream in delivery order (event time): calls every ~0.6 s, a fifth becoming incidents. */
function generateLines(count: number): string[] {
  const random = prng(42);
  const pending: { at: number; line: string }[] = [];
  let clock = START;
  let call = 0;
  const iso = (ms: number) => new Date(ms).toISOString();
  const emit = (at: number, body: Record<string, unknown>) =>
    pending.push({
      at,
      line: JSON.stringify({ v: 1, force: FORCE, at: iso(at), source: 'sim', ...body }),
    });
  while (pending.length < count) {
    clock += Math.floor(random() * 1200);
    const id = `c${call++}`;
    const channel = random() < 0.5 ? '999' : '101';
    emit(clock, { id: `${id}-p`, type: 'call.presented', call: id, channel, queue: 'main' });
    const wait = Math.floor(random() * (channel === '999' ? 15_000 : 240_000));
    if (random() < 0.93)
      emit(clock + wait, { id: `${id}-a`, type: 'call.answered', call: id, handler: 'h17' });
    else emit(clock + wait, { id: `${id}-x`, type: 'call.abandoned', call: id });
    emit(clock + wait + 120_000, { id: `${id}-c`, type: 'call.closed', call: id });
    if (random() < 0.2) {
      const incident = `i${call}`;
      const opened = clock + wait + 60_000;
      const grade = 1 + Math.floor(random() * 4);
      const area = random() < 0.7 ? 'urban' : 'rural';
      emit(opened, {
        id: `${incident}-o`,
        type: 'incident.opened',
        incident,
        grade,
        area,
        call: id,
      });
      emit(opened + 120_000, {
        id: `${incident}-d`,
        type: 'unit.dispatched',
        incident,
        unit: 'NR12',
      });
      emit(opened + Math.floor(random() * 3_600_000), {
        id: `${incident}-r`,
        type: 'unit.arrived',
        incident,
        unit: 'NR12',
      });
      if (random() < 0.1)
        emit(opened + 1_500_000, { id: `${incident}-v`, type: 'victim.updated', incident });
    }
  }
  // Delivered in time order, as a live feed would be.
  pending.sort((a, b) => a.at - b.at);
  return pending.slice(0, count).map(({ line }) => line);
}

function time(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function gc() {
  (globalThis as { gc?: () => void }).gc?.();
}

const lines = generateLines(EVENTS);
const events: CallmonEvent[] = lines.map((line) => {
  const parsed = parseEvent(line);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.event;
});
const policy = Policy.ukDefault();

let sink = 0;
const parseRun = () => {
  for (const line of lines) sink += (JSON.parse(line) as { at: string }).at.length;
};
const engineRun = () => {
  const engine = new LiveEngine({ force: FORCE, policy, onAlert: () => sink++ });
  for (const event of events) {
    engine.advanceTo(event.at);
    engine.apply(event);
  }
  sink += engine.stats().accepted;
};

// Warm up both, then take the median of five alternating runs.
parseRun();
engineRun();
const parseTimes: number[] = [];
const engineTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  gc();
  parseTimes.push(time(parseRun));
  gc();
  engineTimes.push(time(engineRun));
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const parseMs = median(parseTimes);
const engineMs = median(engineTimes);

// Snapshot cost over a full 7-day window of this stream.
const full = new LiveEngine({ force: FORCE, policy });
for (const event of events) {
  full.advanceTo(event.at);
  full.apply(event);
}
const snapshotMs = median([0, 1, 2, 3, 4].map(() => time(() => void full.snapshot())));

// Heap per pending call: N calls presented and never answered, clock held before any deadline;
// with each event kept by the deduper (any input), and with ids only (first copies only).
const PENDING = 200_000;
function heapPerPendingCall(firstCopiesOnly: boolean): { bytes: number; calls: number } {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const holder = new LiveEngine({ force: FORCE, policy, startAt: START, firstCopiesOnly });
  for (let i = 0; i < PENDING; i++) {
    const parsed = parseEvent(
      JSON.stringify({
        v: 1,
        force: FORCE,
        id: `p${i}-p`,
        type: 'call.presented',
        at: new Date(START + i).toISOString(),
        call: `p${i}`,
        channel: '999',
      }),
    );
    if (parsed.ok) holder.apply(parsed.event);
  }
  gc();
  const bytes = (process.memoryUsage().heapUsed - heapBefore) / PENDING;
  return { bytes, calls: holder.stats().calls };
}
const pending = heapPerPendingCall(false);
const pendingFirstCopies = heapPerPendingCall(true);

console.log(
  JSON.stringify(
    {
      events: EVENTS,
      span_days: Number(((events.at(-1)!.at - events[0]!.at) / 86_400_000).toFixed(2)),
      json_parse_ms: Number(parseMs.toFixed(1)),
      engine_ms: Number(engineMs.toFixed(1)),
      ratio_engine_to_parse: Number((engineMs / parseMs).toFixed(3)),
      engine_events_per_s: Math.round(EVENTS / (engineMs / 1000)),
      json_parse_lines_per_s: Math.round(EVENTS / (parseMs / 1000)),
      snapshot_ms_7d: Number(snapshotMs.toFixed(1)),
      snapshot_items: full.stats().calls + full.stats().incidents,
      heap_bytes_per_pending_call: Math.round(pending.bytes),
      heap_bytes_per_pending_call_first_copies_only: Math.round(pendingFirstCopies.bytes),
      pending_calls_held: Math.min(pending.calls, pendingFirstCopies.calls),
      node: process.version,
    },
    null,
    2,
  ),
);
if (sink === -1) console.log('unreachable');
