import { type CallmonEvent, parseEvent } from '@callmon/events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoWeekOf } from './calendar.ts';
import type { LiveAlert } from './live-engine.ts';
import { LiveEngine } from './live-engine.ts';
import { Policy } from './policy.ts';
import { factsAsOf, rollingSnapshot, weeklyReport } from './reports.ts';
import { assessCall, assessIncident } from './rules.ts';

/**
 * metrics.md: "the live figure for a window at time T equals a batch recomputation over
 * the stored events for the same window as of T", and "the order of arrival never
 * changes a result once all events have arrived". Random control-room streams —
 * shuffled, duplicated, with conflicts, late and early deliveries, regrades — check both.
 */

const FORCE = 'northants';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
// Around the spring clock change, so ISO weeks of 167 h are exercised too.
const BASES = [Date.parse('2024-03-28T00:00:00Z'), Date.parse('2024-10-24T12:00:00Z')];

type Wire = Record<string, unknown> & { id: string; at: number };

interface Stream {
  /** Events in arrival order with their arrival instants. */
  arrivals: { event: CallmonEvent; arrivesAt: number }[];
  base: number;
}

const offset = (max: number) => fc.integer({ min: 0, max });
/** Times on whole seconds half the time, so that ties are common. */
const instant = (max: number) =>
  fc.tuple(offset(max), fc.boolean()).map(([ms, round]) => (round ? ms - (ms % SECOND) : ms));

const callArb = fc.record({
  presentedAt: instant(3 * 24 * HOUR),
  channel: fc.constantFrom('999', '101'),
  presented: fc.constantFrom('once', 'once', 'once', 'twice', 'never'),
  secondChannel: fc.constantFrom('999', '101'),
  secondDelta: fc.integer({ min: -5 * SECOND, max: 5 * SECOND }),
  answer: fc.option(fc.integer({ min: -2 * SECOND, max: 400 * SECOND }), { nil: undefined }),
  abandon: fc.option(fc.integer({ min: 0, max: 400 * SECOND }), { nil: undefined }),
});

const incidentArb = fc.record({
  openedAt: instant(3 * 24 * HOUR),
  grade: fc.integer({ min: 1, max: 4 }),
  area: fc.constantFrom('urban', 'rural'),
  opened: fc.constantFrom('once', 'once', 'once', 'twice', 'never'),
  regrades: fc.array(
    fc.record({
      delta: fc.integer({ min: -MINUTE, max: 2 * HOUR }),
      grade: fc.integer({ min: 1, max: 4 }),
    }),
    { maxLength: 2 },
  ),
  arrival: fc.option(fc.integer({ min: -10 * SECOND, max: 2 * HOUR }), { nil: undefined }),
  updates: fc.array(fc.integer({ min: 0, max: 3 * HOUR }), { maxLength: 2 }),
});

function toEvent(wire: Wire): CallmonEvent {
  const line = JSON.stringify({ v: 1, force: FORCE, ...wire, at: new Date(wire.at).toISOString() });
  const parsed = parseEvent(line);
  if (!parsed.ok) throw new Error(`generator made an invalid event: ${parsed.detail} ${line}`);
  return parsed.event;
}

const streamArb = fc
  .record({
    base: fc.constantFrom(...BASES),
    calls: fc.array(callArb, { maxLength: 25 }),
    incidents: fc.array(incidentArb, { maxLength: 15 }),
    otherForce: fc.nat({ max: 3 }),
    duplicates: fc.array(fc.nat(), { maxLength: 8 }),
    conflicts: fc.array(fc.tuple(fc.nat(), fc.integer({ min: -HOUR, max: HOUR })), {
      maxLength: 4,
    }),
    // Mostly late (up to 3 h), sometimes early, as from a control-room clock running fast.
    delays: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 3 * HOUR }) },
        { weight: 1, arbitrary: fc.integer({ min: -10 * MINUTE, max: 0 }) },
      ),
      { minLength: 1, maxLength: 40 },
    ),
    order: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
  })
  .map(({ base, calls, incidents, otherForce, duplicates, conflicts, delays, order }): Stream => {
    const wires: Wire[] = [];
    let n = 0;
    const id = () => `e${n++}`;
    calls.forEach((call, index) => {
      const callId = `c${index}`;
      const presentedAt = base + call.presentedAt;
      if (call.presented !== 'never') {
        wires.push({
          id: id(),
          type: 'call.presented',
          at: presentedAt,
          call: callId,
          channel: call.channel,
        });
      }
      if (call.presented === 'twice') {
        wires.push({
          id: id(),
          type: 'call.presented',
          at: presentedAt + call.secondDelta,
          call: callId,
          channel: call.secondChannel,
        });
      }
      if (call.answer !== undefined) {
        wires.push({
          id: id(),
          type: 'call.answered',
          at: presentedAt + call.answer,
          call: callId,
        });
      }
      if (call.abandon !== undefined) {
        wires.push({
          id: id(),
          type: 'call.abandoned',
          at: presentedAt + call.abandon,
          call: callId,
        });
      }
    });
    incidents.forEach((incident, index) => {
      const incidentId = `i${index}`;
      const openedAt = base + incident.openedAt;
      const opened = {
        type: 'incident.opened',
        incident: incidentId,
        grade: incident.grade,
        area: incident.area,
      };
      if (incident.opened !== 'never') wires.push({ id: id(), at: openedAt, ...opened });
      if (incident.opened === 'twice') {
        wires.push({ id: id(), at: openedAt, ...opened, grade: (incident.grade % 4) + 1 });
      }
      for (const regrade of incident.regrades) {
        wires.push({
          id: id(),
          type: 'incident.regraded',
          at: openedAt + regrade.delta,
          incident: incidentId,
          grade: regrade.grade,
        });
      }
      if (incident.arrival !== undefined) {
        wires.push({
          id: id(),
          type: 'unit.arrived',
          at: openedAt + incident.arrival,
          incident: incidentId,
          unit: 'U1',
        });
      }
      for (const update of incident.updates) {
        wires.push({
          id: id(),
          type: 'victim.updated',
          at: openedAt + update,
          incident: incidentId,
        });
      }
    });
    const events = wires.map(toEvent);
    for (let i = 0; i < otherForce; i++) {
      const line = JSON.stringify({
        v: 1,
        force: 'elsewhere',
        id: `x${i}`,
        type: 'call.presented',
        at: new Date(base + i * MINUTE).toISOString(),
        call: 'c0',
        channel: '999',
      });
      const parsed = parseEvent(line);
      if (parsed.ok) events.push(parsed.event);
    }
    if (wires.length > 0) {
      for (const pick of duplicates) events.push(events[pick % wires.length]!);
      for (const [pick, shift] of conflicts) {
        const original = wires[pick % wires.length]!;
        events.push(toEvent({ ...original, at: original.at + (shift === 0 ? 1 : shift) }));
      }
    }
    // Arrival: each copy arrives after its `at` by a random delay (a few a little before,
    // as from a skewed clock), in a shuffled order among equal instants.
    const arrivals = events.map((event, index) => ({
      event,
      arrivesAt: event.at + delays[index % delays.length]!,
      tiebreak: order[index % order.length]!,
    }));
    arrivals.sort((a, b) => a.arrivesAt - b.arrivesAt || a.tiebreak - b.tiebreak);
    return { arrivals: arrivals.map(({ event, arrivesAt }) => ({ event, arrivesAt })), base };
  });

const policies = [
  Policy.ukDefault(),
  Policy.fromForceFile({
    force: FORCE,
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
];

describe('live equals batch', () => {
  it('the live snapshot at any T equals a batch evaluation of the events stored by T', () => {
    fc.assert(
      fc.property(
        streamArb,
        fc.integer({ min: 0, max: 4 * 24 * HOUR }),
        fc.constantFrom(...policies),
        (stream, tOffset, policy) => {
          const asOf = stream.base + tOffset;
          const engine = new LiveEngine({ force: FORCE, policy });
          const stored: CallmonEvent[] = [];
          for (const { event, arrivesAt } of stream.arrivals) {
            if (arrivesAt > asOf) break;
            engine.advanceTo(arrivesAt);
            engine.apply(event);
            stored.push(event);
          }
          engine.advanceTo(asOf);
          expect(engine.snapshot()).toEqual(
            rollingSnapshot(stored, { force: FORCE, asOf, policy }),
          );
        },
      ),
      { numRuns: 250 },
    );
  });

  it('an engine that was given events dated after T still shows T exactly as batch does', () => {
    fc.assert(
      fc.property(streamArb, fc.integer({ min: 0, max: 4 * 24 * HOUR }), (stream, tOffset) => {
        const policy = policies[0]!;
        const asOf = stream.base + tOffset;
        const replay = new LiveEngine({ force: FORCE, policy });
        const events = stream.arrivals.map(({ event }) => event);
        for (const event of events) replay.apply(event);
        replay.advanceTo(asOf);
        expect(replay.snapshot()).toEqual(rollingSnapshot(events, { force: FORCE, asOf, policy }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('arrival order never changes a result', () => {
  const conflictFree = streamArb.map((stream) => {
    // Keep the first copy of each id only where copies differ: without conflicts, first
    // copy wins is order-independent.
    const byId = new Map<string, string>();
    const arrivals = stream.arrivals.filter(({ event }) => {
      const content = JSON.stringify(event);
      const key = `${event.force}/${event.id}`;
      const first = byId.get(key);
      if (first === undefined) byId.set(key, content);
      return first === undefined || first === content;
    });
    return { ...stream, arrivals };
  });

  it('the weekly report is the same whatever the order of the stored events', () => {
    fc.assert(
      fc.property(
        conflictFree,
        fc.integer({ min: 0, max: 5 * 24 * HOUR }),
        fc.func(fc.integer()),
        fc.constantFrom(...policies),
        (stream, asOfOffset, order, policy) => {
          const asOf = stream.base + asOfOffset;
          const events = stream.arrivals.map(({ event }) => event);
          const shuffled = events
            .map((event, index) => ({ event, key: order(index) }))
            .sort((a, b) => a.key - b.key)
            .map(({ event }) => event);
          const week = isoWeekOf(stream.base + 2 * 24 * HOUR, policy.timezone);
          const options = { force: FORCE, week, asOf, policy };
          expect(weeklyReport(shuffled, options)).toEqual(weeklyReport(events, options));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the live engine ends in the same state whatever the arrival order', () => {
    fc.assert(
      fc.property(conflictFree, fc.func(fc.integer()), (stream, order) => {
        const policy = policies[1]!;
        const end = stream.base + 5 * 24 * HOUR;
        const run = (events: CallmonEvent[]) => {
          const engine = new LiveEngine({ force: FORCE, policy, startAt: stream.base });
          for (const event of events) engine.apply(event);
          engine.advanceTo(end);
          return engine.snapshot();
        };
        const events = stream.arrivals.map(({ event }) => event);
        const shuffled = events
          .map((event, index) => ({ event, key: order(index) }))
          .sort((a, b) => a.key - b.key)
          .map(({ event }) => event);
        expect(run(shuffled)).toEqual(run(events));
      }),
      { numRuns: 200 },
    );
  });
});

describe("alerts fire at the instant the rules change an item's class", () => {
  it('every breach alert is the first instant batch classifies the item as breached', () => {
    fc.assert(
      fc.property(streamArb, fc.constantFrom(...policies), (stream, policy) => {
        const alerts: LiveAlert[] = [];
        const engine = new LiveEngine({
          force: FORCE,
          policy,
          startAt: stream.base - HOUR,
          onAlert: (alert) => alerts.push(alert),
        });
        const events = stream.arrivals.map(({ event }) => event);
        for (const event of events) engine.apply(event);
        const end = stream.base + 4 * 24 * HOUR;
        engine.advanceTo(end);

        const breachedAt = (rule: LiveAlert['rule'], item: string, t: number): boolean => {
          const book = factsAsOf(events, FORCE, t);
          if (rule === 'call.unanswered') {
            const call = book.calls.get(item);
            if (call?.presentedAt === undefined) return false;
            const assessment = assessCall(call, policy, t);
            return assessment.outcome === 'unresolved' && assessment.class === 'breached';
          }
          const incident = book.incidents.get(item);
          if (incident?.openedAt === undefined) return false;
          const assessment = assessIncident(incident, policy, t);
          const target = assessment.target;
          if (target === undefined) return false;
          return rule === 'attendance'
            ? assessment.attendMs === undefined && target.attendance === 'breached'
            : target.victimUpdate === 'breached';
        };

        for (const alert of alerts) {
          if (alert.kind !== 'breach') continue;
          expect(breachedAt(alert.rule, alert.item, alert.at)).toBe(true);
          expect(breachedAt(alert.rule, alert.item, alert.at - 1)).toBe(false);
        }
        // And none is missed: every call still unanswered and breached at the end was alerted.
        const book = factsAsOf(events, FORCE, end);
        for (const call of book.calls.values()) {
          if (!breachedAt('call.unanswered', call.call, end)) continue;
          expect(alerts.some((a) => a.kind === 'breach' && a.item === call.call)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
