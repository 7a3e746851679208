import { formatUtc, parseEvent } from '@callmon/events';
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from './scenarios.ts';
import { SimulatorOptionError, simulate } from './simulate.ts';
import {
  callsOf,
  count,
  effectiveGrade,
  eventsOf,
  firstArrival,
  incidentsOf,
  linesOf,
  share999Within10s,
} from './test-helpers.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A February week (UTC = UK local time), Monday 2024-02-19 to Sunday 2024-02-25. */
const WEEK = { start: '2024-02-19T00:00:00Z', days: 7 } as const;
const START = Date.parse(WEEK.start);

function take<T>(iterable: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of iterable) {
    if (out.length === n) break;
    out.push(item);
  }
  return out;
}

describe('determinism', () => {
  it('the same seed and options give byte-identical output', () => {
    const a = [...simulate({ seed: 42, days: 1 })].map((l) => l.line).join('\n');
    const b = [...simulate({ seed: 42, days: 1 })].map((l) => l.line).join('\n');
    expect(a.length).toBeGreaterThan(10_000);
    expect(b).toBe(a);
  });

  it('iterating the same result twice gives the same lines again', () => {
    const run = simulate({ seed: 5, days: 0.25 });
    expect([...run]).toEqual([...run]);
  });

  it('a different seed gives different output', () => {
    const a = take(simulate({ seed: 1 }), 200).map((l) => l.line);
    const b = take(simulate({ seed: 2 }), 200).map((l) => l.line);
    expect(b).not.toEqual(a);
  });

  it('every scenario is deterministic', () => {
    for (const scenario of SCENARIOS) {
      const a = [...simulate({ scenario, seed: 9, days: 0.5 })];
      const b = [...simulate({ scenario, seed: 9, days: 0.5 })];
      expect(b, scenario).toEqual(a);
    }
  });
});

describe('every line is a valid event of the contract', () => {
  for (const scenario of ['normal', 'friday-night-surge', 'understaffed'] as const) {
    it(`${scenario}: every line parses, and is delivered at its event time in order`, () => {
      const lines = linesOf({ scenario, days: 2, start: '2024-02-23T00:00:00Z' });
      let previous = Number.NEGATIVE_INFINITY;
      for (const l of lines) {
        const result = parseEvent(l.line);
        if (!result.ok) throw new Error(`${result.reason} ${result.detail}: ${l.line}`);
        expect(l.fault).toBeUndefined();
        expect(l.deliverAt).toBe(result.event.at);
        expect(l.deliverAt).toBeGreaterThanOrEqual(previous);
        previous = l.deliverAt;
      }
    });
  }

  it('uses the envelope the contract shows: v 1, the force, source sim, UTC times with ms', () => {
    for (const l of take(simulate({ force: 'west-mercia', days: 0.5 }), 2000)) {
      const wire = JSON.parse(l.line) as Record<string, unknown>;
      expect(wire.v).toBe(1);
      expect(wire.force).toBe('west-mercia');
      expect(wire.source).toBe('sim');
      expect(wire.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(wire.at).toBe(formatUtc(l.deliverAt));
      expect(l.line).not.toContain('\n');
    }
  });

  it('every event id is unique within the force', () => {
    const ids = eventsOf(linesOf({ ...WEEK })).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('all events fall at or after the start, and calls are presented before the end', () => {
    const start = '2024-02-19T10:30:00Z';
    const events = eventsOf([...simulate({ start, days: 0.25 })]);
    const from = Date.parse(start);
    for (const e of events) expect(e.at).toBeGreaterThanOrEqual(from);
    for (const e of events) {
      if (e.type === 'call.presented') expect(e.at).toBeLessThan(from + 0.25 * DAY);
    }
  });

  it('is lazy: an endless run yields its first lines at once', () => {
    const first = take(simulate({ days: Number.POSITIVE_INFINITY }), 1000);
    expect(first).toHaveLength(1000);
  });
});

describe('calls', () => {
  const calls = callsOf(eventsOf(linesOf({ ...WEEK })));

  it('every call is answered or abandoned, once, after it is presented', () => {
    for (const c of calls.values()) {
      expect((c.answeredAt === undefined) !== (c.abandonedAt === undefined), c.call).toBe(true);
      if (c.answeredAt !== undefined) {
        expect(c.answeredAt).toBeGreaterThanOrEqual(c.presentedAt);
        expect(c.closedAt).toBeGreaterThan(c.answeredAt);
      } else {
        expect(c.abandonedAt!).toBeGreaterThanOrEqual(c.presentedAt);
        expect(c.closedAt).toBeUndefined();
      }
    }
  });

  it('a mid-sized force gets about 135,000 999 and 200,000 101 calls a year', () => {
    const per999 = count(calls.values(), (c) => c.channel === '999') / 7;
    const per101 = count(calls.values(), (c) => c.channel === '101') / 7;
    // A February week: 999 demand is flat over the year in the model; ±12 % for chance.
    expect(per999).toBeGreaterThan((135_000 / 365) * 0.88);
    expect(per999).toBeLessThan((135_000 / 365) * 1.12);
    expect(per101).toBeGreaterThan((200_000 / 365) * 0.88);
    expect(per101).toBeLessThan((200_000 / 365) * 1.12);
  });

  it('volume is a parameter: twice the yearly 999 calls gives about twice the 999 calls', () => {
    const base = count(
      callsOf(eventsOf(linesOf({ days: 2 }))).values(),
      (c) => c.channel === '999',
    );
    const doubled = count(
      callsOf(eventsOf(linesOf({ days: 2, calls999PerYear: 270_000 }))).values(),
      (c) => c.channel === '999',
    );
    expect(doubled / base).toBeGreaterThan(1.7);
    expect(doubled / base).toBeLessThan(2.3);
  });

  it('on a normal week most 999 calls are answered within 10 s, with a tail beyond a minute', () => {
    const share = share999Within10s(calls.values());
    // docs: realistic band for a force 75–95 %; a normal week should be near the standard.
    expect(share).toBeGreaterThan(0.85);
    expect(share).toBeLessThan(0.99);
    const overMinute = count(
      calls.values(),
      (c) =>
        c.channel === '999' && c.answeredAt !== undefined && c.answeredAt - c.presentedAt > MINUTE,
    );
    expect(overMinute).toBeGreaterThan(0);
  });

  it('101 callers wait longer and abandon more than 999 callers', () => {
    const stats = (channel: '999' | '101') => {
      const cs = [...calls.values()].filter((c) => c.channel === channel);
      const answered = cs.filter((c) => c.answeredAt !== undefined);
      const meanWait =
        answered.reduce((sum, c) => sum + (c.answeredAt! - c.presentedAt), 0) / answered.length;
      return { abandoned: count(cs, (c) => c.abandonedAt !== undefined) / cs.length, meanWait };
    };
    const s999 = stats('999');
    const s101 = stats('101');
    expect(s999.abandoned).toBeLessThan(0.03);
    expect(s101.abandoned).toBeGreaterThan(s999.abandoned * 2);
    expect(s101.abandoned).toBeLessThan(0.3);
    expect(s101.meanWait).toBeGreaterThan(s999.meanWait);
  });

  it('understaffed answers a smaller share of 999 calls within 10 s than normal', () => {
    const normal = share999Within10s(calls.values());
    const understaffed = share999Within10s(
      callsOf(eventsOf(linesOf({ ...WEEK, scenario: 'understaffed' }))).values(),
    );
    expect(understaffed).toBeLessThan(normal - 0.05);
  });
});

describe('seasonality', () => {
  const presented999 = eventsOf(linesOf({ ...WEEK })).filter(
    (e) => e.type === 'call.presented' && e.channel === '999',
  );
  // February: UK local time is UTC, so UTC hours are the control room's hours.
  const inHours = (hours: number[], days?: number[]) =>
    count(presented999, (e) => {
      const d = new Date(e.at);
      const day = (d.getUTCDay() + 6) % 7;
      return hours.includes(d.getUTCHours()) && (days === undefined || days.includes(day));
    });

  it('the small hours (03:00–06:00) have far fewer 999 calls than the evening (18:00–21:00)', () => {
    expect(inHours([3, 4, 5])).toBeLessThan(inHours([18, 19, 20]) * 0.6);
  });

  it('Friday and Saturday late evenings are busier than Monday to Thursday ones', () => {
    const weekendPerNight = inHours([21, 22, 23], [4, 5]) / 2;
    const weekdayPerNight = inHours([21, 22, 23], [0, 1, 2, 3]) / 4;
    expect(weekendPerNight).toBeGreaterThan(weekdayPerNight * 1.15);
  });

  it('101 demand is daytime demand', () => {
    const presented101 = eventsOf(linesOf({ ...WEEK })).filter(
      (e) => e.type === 'call.presented' && e.channel === '101',
    );
    const byHour = (hours: number[]) =>
      count(presented101, (e) => hours.includes(new Date(e.at).getUTCHours()));
    expect(byHour([2, 3, 4])).toBeLessThan(byHour([10, 11, 12]) * 0.2);
  });

  it('friday-night-surge brings more 999 calls and slower answers on Friday night than normal', () => {
    const friday = { start: '2024-02-23T00:00:00Z', days: 2 };
    const fromAt = Date.parse('2024-02-23T20:00:00Z');
    const night = (scenario: 'normal' | 'friday-night-surge') =>
      [...callsOf(eventsOf(linesOf({ ...friday, scenario }))).values()].filter(
        (c) => c.channel === '999' && c.presentedAt >= fromAt && c.presentedAt < fromAt + 8 * HOUR,
      );
    const normal = night('normal');
    const surge = night('friday-night-surge');
    expect(surge.length).toBeGreaterThan(normal.length * 1.3);
    expect(share999Within10s(surge)).toBeLessThan(share999Within10s(normal));
  });
});

describe('incidents', () => {
  const events = eventsOf(linesOf({ ...WEEK }));
  const calls = callsOf(events);
  const incidents = incidentsOf(events);
  const all = [...incidents.values()];

  it('every incident comes from an answered call and opens after the answer', () => {
    expect(all.length).toBeGreaterThan(1000);
    for (const i of all) {
      const call = calls.get(i.call!);
      expect(call, i.incident).toBeDefined();
      expect(call!.answeredAt).toBeDefined();
      expect(i.openedAt).toBeGreaterThan(call!.answeredAt!);
    }
  });

  it('every incident event comes after the opening, arrivals after dispatches, closing last', () => {
    for (const i of all) {
      const after = [
        ...i.dispatchedAt,
        ...i.arrivedAt,
        ...i.updatedAt,
        ...i.grades.map((g) => g.at),
      ];
      for (const t of after) expect(t).toBeGreaterThanOrEqual(i.openedAt);
      expect(i.arrivedAt).toHaveLength(i.dispatchedAt.length);
      i.arrivedAt.forEach((t, k) => {
        expect(t).toBeGreaterThan(i.dispatchedAt[k]!);
      });
      expect(i.closedAt).toBeGreaterThanOrEqual(Math.max(i.openedAt, ...i.arrivedAt));
    }
  });

  it('the grade mix is about G1 15 %, G2 35 %, G3 30 %, G4 20 %', () => {
    const opening = [1, 2, 3, 4].map(
      (g) => count(all, (i) => i.grades[0]!.grade === g) / all.length,
    );
    const expected = [0.15, 0.35, 0.3, 0.2];
    opening.forEach((share, k) => {
      expect(Math.abs(share - expected[k]!)).toBeLessThan(0.05);
    });
  });

  it('incidents are urban and rural, in several districts', () => {
    const wires = linesOf({ ...WEEK })
      .map((l) => JSON.parse(l.line) as Record<string, unknown>)
      .filter((w) => w.type === 'incident.opened');
    expect(new Set(wires.map((w) => w.district)).size).toBeGreaterThanOrEqual(4);
    const rural = count(all, (i) => i.area === 'rural') / all.length;
    expect(rural).toBeGreaterThan(0.2);
    expect(rural).toBeLessThan(0.5);
  });

  it('G1 is mostly attended within 15 min urban and 20 min rural, with a tail of late ones', () => {
    for (const [area, target] of [
      ['urban', 15 * MINUTE],
      ['rural', 20 * MINUTE],
    ] as const) {
      const g1 = all.filter((i) => effectiveGrade(i) === 1 && i.area === area);
      const onTime = count(g1, (i) => firstArrival(i) - i.openedAt <= target);
      expect(onTime / g1.length, area).toBeGreaterThan(0.7);
      expect(onTime, area).toBeLessThan(g1.length);
    }
  });

  it('G2 is mostly attended within the hour; G3 later; G4 rarely', () => {
    const attendWithin = (grade: number, ms: number) => {
      const of = all.filter((i) => effectiveGrade(i) === grade);
      return count(of, (i) => firstArrival(i) - i.openedAt <= ms) / of.length;
    };
    expect(attendWithin(2, HOUR)).toBeGreaterThan(0.7);
    expect(attendWithin(2, HOUR)).toBeLessThan(1);
    expect(attendWithin(3, HOUR)).toBeLessThan(0.05);
    const g4 = all.filter((i) => effectiveGrade(i) === 4);
    expect(count(g4, (i) => i.arrivedAt.length > 0) / g4.length).toBeLessThan(0.15);
  });

  it('some incidents are upgraded G2→G1 and some downgraded G1→G2', () => {
    const regraded = (from: number, to: number) =>
      count(all, (i) =>
        i.grades.some((g, k) => k > 0 && g.grade === to && i.grades[k - 1]!.grade === from),
      );
    expect(regraded(2, 1)).toBeGreaterThan(0);
    expect(regraded(1, 2)).toBeGreaterThan(0);
  });

  it('delayed incidents get victim updates, some within the grace and some after it', () => {
    // metrics.md: G1 900 s urban / 1200 s rural, G2 3600 s; grace 900 s after the deadline.
    const target = (i: (typeof all)[number]) => {
      const grade = effectiveGrade(i);
      if (grade === 1) return i.area === 'urban' ? 900_000 : 1_200_000;
      return grade === 2 ? 3_600_000 : null;
    };
    let withinGrace = 0;
    let afterGrace = 0;
    for (const i of all) {
      const t = target(i);
      if (i.updatedAt.length === 0) continue;
      expect(t, `${i.incident} updated but has no target`).not.toBeNull();
      const deadline = i.openedAt + t!;
      expect(firstArrival(i), `${i.incident} updated but not delayed`).toBeGreaterThan(deadline);
      if (i.updatedAt[0]! <= deadline + 900_000) withinGrace++;
      else afterGrace++;
    }
    expect(withinGrace).toBeGreaterThan(0);
    expect(afterGrace).toBeGreaterThan(0);
  });
});

describe('options', () => {
  it('an unknown scenario is refused with the list of valid ones', () => {
    expect(() => simulate({ scenario: 'chaos' as 'normal' })).toThrow(SimulatorOptionError);
    expect(() => simulate({ scenario: 'chaos' as 'normal' })).toThrow(
      /normal, friday-night-surge, understaffed, data-faults/,
    );
  });

  it.each([
    [{ start: '2024-02-19T00:00:00' }, /no zone/],
    [{ start: 'yesterday' }, /start/],
    [{ days: 0 }, /days/],
    [{ days: Number.NaN }, /days/],
    [{ seed: -1 }, /seed/],
    [{ seed: 1.5 }, /seed/],
    [{ force: 'Northants' }, /force/],
    [{ calls999PerYear: -5 }, /calls999PerYear/],
    [{ timeZone: 'Mars/Olympus' }, /time zone/],
  ])('refuses %j', (options, message) => {
    expect(() => simulate(options)).toThrow(message);
  });

  it.each(['separate', 'overflow', 'shared'] as const)(
    'pooling %s answers or loses every call, with valid events',
    (pooling) => {
      const calls = callsOf(eventsOf([...simulate({ pooling, days: 0.5 })]));
      expect(calls.size).toBeGreaterThan(300);
      for (const c of calls.values()) {
        expect(c.answeredAt !== undefined || c.abandonedAt !== undefined).toBe(true);
      }
    },
  );

  it('the start may carry an offset', () => {
    const [first] = take(simulate({ start: '2024-02-19T01:00:00+01:00' }), 1);
    expect(first!.deliverAt).toBeGreaterThanOrEqual(START);
  });
});
