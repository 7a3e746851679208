import {
  isoWeekOf,
  isoWeekWindow,
  Policy,
  rollingSnapshot,
  weeklyReport,
} from '@callmon/compliance';
import type { CallmonEvent, EventType } from '@callmon/events';
import type { ClickHouseClient } from '@clickhouse/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawClient, openTestStore, type TestStore } from '../testing.ts';
import { contractEvent, storeInArrivalOrder } from './test-support.ts';
import { weekFiguresFromFacts } from './window-figures.ts';

/**
 * style.md: each rule of docs/metrics.md exists once in TypeScript and once in SQL, with a
 * test that proves they agree. Random control-room streams — shuffled arrivals,
 * duplicates, conflicting copies, regrades, abandons, orphans, negative durations, events
 * far from their call's week, two policies (one versioned) — are stored in a real store,
 * each run under a force of its own, and the store's weekly report and rolling snapshot
 * must deep-equal the evaluator's over the same events in the same arrival order, at a
 * random T.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Around the spring clock change, so ISO weeks of 167 h are exercised too.
const BASES = [Date.parse('2024-03-28T00:00:00Z'), Date.parse('2024-10-24T12:00:00Z')];

const offset = (max: number) => fc.integer({ min: 0, max });
/** Times on whole seconds half the time, so that ties are common. */
const instant = (max: number) =>
  fc.tuple(offset(max), fc.boolean()).map(([ms, round]) => (round ? ms - (ms % SECOND) : ms));

/** Durations on the policies' boundaries (S, deadlines, due times) and 1 ms either side. */
const boundary = (...values: number[]) =>
  fc.constantFrom(...values.flatMap((value) => [value - 1, value, value + 1]));
const callDelay = (range: fc.Arbitrary<number>) =>
  fc.oneof(
    { weight: 2, arbitrary: range },
    { weight: 1, arbitrary: boundary(10 * SECOND, 30 * SECOND, 180 * SECOND) },
  );

const callArb = fc.record({
  presentedAt: instant(3 * DAY),
  channel: fc.constantFrom('999', '101'),
  presented: fc.constantFrom('once', 'once', 'once', 'twice', 'never'),
  secondChannel: fc.constantFrom('999', '101'),
  secondDelta: fc.integer({ min: -5 * SECOND, max: 5 * SECOND }),
  answer: fc.option(callDelay(fc.integer({ min: -2 * SECOND, max: 400 * SECOND })), {
    nil: undefined,
  }),
  abandon: fc.option(callDelay(fc.integer({ min: 0, max: 400 * SECOND })), { nil: undefined }),
  // An answer or presentation dated far from the rest of the call (another week).
  stray: fc.option(
    fc.record({
      type: fc.constantFrom('call.answered', 'call.presented'),
      delta: fc.constantFrom(-10 * DAY, -3 * DAY, 8 * DAY),
    }),
    { nil: undefined, freq: 8 },
  ),
});

const incidentArb = fc.record({
  openedAt: instant(3 * DAY),
  grade: fc.integer({ min: 1, max: 4 }),
  area: fc.constantFrom('urban', 'rural'),
  opened: fc.constantFrom('once', 'once', 'once', 'twice', 'never'),
  regrades: fc.array(
    fc.record({
      // Sometimes at the opening instant: a regrade wins that tie.
      delta: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: -MINUTE, max: 2 * HOUR }) },
        { weight: 1, arbitrary: fc.constant(0) },
      ),
      grade: fc.integer({ min: 1, max: 4 }),
    }),
    { maxLength: 2 },
  ),
  arrival: fc.option(
    fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -10 * SECOND, max: 2 * HOUR }) },
      // Attendance deadlines, and victim-update due times (deadline + grace).
      { weight: 2, arbitrary: boundary(600, 900, 1200, 1800, 2700, 3600).map((s) => s * SECOND) },
      { weight: 1, arbitrary: boundary(900, 1500, 1800, 2100, 3000, 4500).map((s) => s * SECOND) },
      { weight: 1, arbitrary: fc.constant(9 * DAY) },
    ),
    { nil: undefined },
  ),
  updates: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 * HOUR }) },
      { weight: 1, arbitrary: boundary(900, 1500, 1800, 2100, 3000, 4500).map((s) => s * SECOND) },
    ),
    { maxLength: 2 },
  ),
});

type Wire = { id: string; type: EventType; at: number } & Record<string, unknown>;

const streamArb = fc.record({
  base: fc.constantFrom(...BASES),
  calls: fc.array(callArb, { maxLength: 25 }),
  incidents: fc.array(incidentArb, { maxLength: 15 }),
  duplicates: fc.array(fc.nat(), { maxLength: 8 }),
  conflicts: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -HOUR, max: HOUR })), {
    maxLength: 4,
  }),
  // Arrival order: each copy arrives after its `at` by a random delay (a few a little
  // before, as from a skewed clock); ties in a shuffled order.
  delays: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 * HOUR }) },
      { weight: 1, arbitrary: fc.integer({ min: -10 * MINUTE, max: 0 }) },
    ),
    { minLength: 1, maxLength: 40 },
  ),
  order: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
});
type Stream = typeof streamArb extends fc.Arbitrary<infer T> ? T : never;

/** The stream's events for `force`, in arrival order. */
function arrivals(stream: Stream, force: string): CallmonEvent[] {
  const wires: Wire[] = [];
  let n = 0;
  const id = () => `e${String(n++).padStart(3, '0')}`;
  stream.calls.forEach((call, index) => {
    const callId = `c${index}`;
    const at = stream.base + call.presentedAt;
    const presented = { type: 'call.presented' as const, call: callId };
    if (call.presented !== 'never')
      wires.push({ id: id(), at, ...presented, channel: call.channel });
    if (call.presented === 'twice') {
      wires.push({
        id: id(),
        at: at + call.secondDelta,
        ...presented,
        channel: call.secondChannel,
      });
    }
    if (call.answer !== undefined) {
      wires.push({ id: id(), type: 'call.answered', at: at + call.answer, call: callId });
    }
    if (call.abandon !== undefined) {
      wires.push({ id: id(), type: 'call.abandoned', at: at + call.abandon, call: callId });
    }
    if (call.stray !== undefined) {
      const { type, delta } = call.stray;
      const channel = type === 'call.presented' ? { channel: call.channel } : {};
      wires.push({ id: id(), type, at: at + delta, call: callId, ...channel });
    }
  });
  stream.incidents.forEach((incident, index) => {
    const incidentId = `i${index}`;
    const at = stream.base + incident.openedAt;
    const opened = { type: 'incident.opened' as const, incident: incidentId, area: incident.area };
    if (incident.opened !== 'never') wires.push({ id: id(), at, ...opened, grade: incident.grade });
    if (incident.opened === 'twice') {
      wires.push({ id: id(), at, ...opened, grade: (incident.grade % 4) + 1 });
    }
    for (const regrade of incident.regrades) {
      wires.push({
        id: id(),
        type: 'incident.regraded',
        at: at + regrade.delta,
        incident: incidentId,
        grade: regrade.grade,
      });
    }
    if (incident.arrival !== undefined) {
      wires.push({
        id: id(),
        type: 'unit.arrived',
        at: at + incident.arrival,
        incident: incidentId,
        unit: 'U1',
      });
    }
    for (const update of incident.updates) {
      wires.push({ id: id(), type: 'victim.updated', at: at + update, incident: incidentId });
    }
  });
  const toEvent = ({ id, type, at, ...fields }: Wire) => contractEvent(force, id, type, at, fields);
  const events = wires.map(toEvent);
  if (wires.length > 0) {
    for (const pick of stream.duplicates) events.push(events[pick % wires.length]!);
    for (const [pick, shift] of stream.conflicts) {
      const original = wires[pick % wires.length]!;
      events.push(toEvent({ ...original, at: original.at + (shift === 0 ? 1 : shift) }));
    }
  }
  return events
    .map((event, index) => ({
      event,
      arrivesAt: event.at + stream.delays[index % stream.delays.length]!,
      tiebreak: stream.order[index % stream.order.length]!,
    }))
    .sort((a, b) => a.arrivesAt - b.arrivesAt || a.tiebreak - b.tiebreak)
    .map(({ event }) => event);
}

const policies = [
  Policy.ukDefault(),
  Policy.fromForceFile({
    force: 'northants',
    versions: [
      {
        id: 'nth-v1',
        effective_from: null,
        calls: { '101': { answer_within_s: 30, abandoned: 'breach_if_late' } },
      },
      {
        id: 'nth-v2',
        effective_from: '2024-03-29T12:00:00Z',
        calls: { '999': { abandoned: 'breach' } },
        attendance: {
          targets: [
            { grade: 1, within_s: 600 },
            { grade: 2, area: 'urban', within_s: 1800 },
            { grade: 2, area: 'rural', within_s: 2700 },
          ],
        },
        victim_update: { grace_s: 300 },
      },
    ],
  }),
  // Targets for grades 3 and 4 too (the last cells of the policy's target table), and a
  // version that starts inside the streams.
  Policy.fromForceFile({
    force: 'cumbria',
    versions: [
      {
        id: 'cmb-v1',
        effective_from: null,
        attendance: {
          targets: [
            { grade: 3, within_s: 1800 },
            { grade: 4, area: 'rural', within_s: 900 },
          ],
        },
      },
      {
        id: 'cmb-v2',
        effective_from: '2024-10-25T06:00:00Z',
        calls: { '101': { answer_within_s: 10, abandoned: 'breach' } },
        attendance: { targets: [{ grade: 4, within_s: 600 }] },
        victim_update: { grace_s: 0 },
      },
    ],
  }),
];

let test: TestStore;
let raw: ClickHouseClient;
beforeAll(async () => {
  test = await openTestStore();
  raw = await openRawClient(test.options);
});
afterAll(async () => {
  await raw?.close();
  await test?.cleanup();
});

/** Every execution (shrinking included) stores its events under a force never used before. */
let runs = 0;
const forceCode = fc
  .stringMatching(/^[a-z][a-z0-9]{3,8}$/)
  .map((code) => () => `${code}-${++runs}`);

describe('the report SQL equals the TypeScript evaluator', () => {
  it('weekly report and rolling snapshot from the store deep-equal the evaluator’s at a random T', async () => {
    await fc.assert(
      fc.asyncProperty(
        streamArb,
        forceCode,
        fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 * DAY }) },
          { weight: 1, arbitrary: fc.integer({ min: 4 * DAY, max: 12 * DAY }) },
          // On an event's own instant, or a target time after it, ±1 ms.
          {
            weight: 2,
            arbitrary: fc.tuple(fc.nat(), boundary(0, 10 * SECOND, 30 * SECOND, 600 * SECOND)),
          },
        ),
        fc.integer({ min: -DAY, max: 4 * DAY }),
        fc.constantFrom(...policies),
        async (stream, newForce, tOffset, weekOffset, policy) => {
          const force = newForce();
          const events = arrivals(stream, force);
          await storeInArrivalOrder(test.store, events, stream.base);
          const asOf = Array.isArray(tOffset)
            ? (events[tOffset[0] % Math.max(events.length, 1)]?.at ?? stream.base) + tOffset[1]
            : stream.base + tOffset;
          const week = isoWeekOf(stream.base + weekOffset, policy.timezone);

          const weekly = { force, week, asOf, policy };
          expect(await test.store.weeklyReport(weekly)).toEqual(weeklyReport(events, weekly));
          const rolling = { force, asOf, policy };
          expect(await test.store.rollingSnapshot(rolling)).toEqual(
            rollingSnapshot(events, rolling),
          );

          // The week's stored facts (migration 0007): the report is the same wherever they
          // answer, and they answer as of any T at or after every event.
          expect((await test.store.refreshWeekFacts({ force, week, policy })).stored).toBe(true);
          expect(await test.store.weeklyReport(weekly)).toEqual(weeklyReport(events, weekly));
          const settled = {
            force,
            week,
            asOf: Math.max(stream.base, ...events.map((event) => event.at)),
            policy,
          };
          const span = isoWeekWindow(week, policy.timezone);
          expect(await weekFiguresFromFacts(raw, { ...settled, span })).toBeDefined();
          expect(await test.store.weeklyReport(settled)).toEqual(weeklyReport(events, settled));
        },
      ),
      { numRuns: 100 },
    );
    // ≈ 30 s alone, ≈ 90 s in the full suite on two cores (each case also refreshes a week).
  }, 240_000);
});
