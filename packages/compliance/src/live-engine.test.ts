import { type CallmonEvent, parseEvent } from '@callmon/events';
import { describe, expect, it } from 'vitest';
import { type LiveAlert, LiveEngine } from './live-engine.ts';
import { Policy } from './policy.ts';
import { rollingSnapshot } from './reports.ts';
import { TargetAlarm } from './target-alarm.ts';
import {
  abandoned,
  answered,
  arrived,
  DAY,
  FORCE,
  HOUR,
  MINUTE,
  opened,
  presented,
  regraded,
  SECOND,
  T0,
  updated,
} from './test-events.ts';

/**
 * The live engine and the window alarm against docs/metrics.md: an item is breached at
 * the first instant the §2–§4 rules call it breached (`T − presented_at > S`, so
 * `presented_at + S + 1 ms`; likewise `deadline + 1 ms` and `due + 1 ms`). Fixtures are
 * wire events parsed by the real contract; expected instants are worked by hand.
 */

type Channel = '999' | '101';

const uk = Policy.ukDefault();

/** An engine at `start` that records its alerts. */
function engineAt(start: number, policy = uk, more: { firstCopiesOnly?: boolean } = {}) {
  const alerts: LiveAlert[] = [];
  const engine = new LiveEngine({
    force: FORCE,
    policy,
    startAt: start,
    onAlert: (alert) => alerts.push(alert),
    ...more,
  });
  return { engine, alerts };
}

const ofRule = (alerts: LiveAlert[], rule: LiveAlert['rule']) =>
  alerts.filter((alert) => alert.rule === rule);

describe('live 999/101 unanswered breach', () => {
  it('an unanswered 999 call breaches at presented_at + 10 001 ms, not at + 10 000 ms', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.advanceTo(T0 + 10_000);
    expect(alerts).toEqual([]);
    engine.advanceTo(T0 + 10_001);
    expect(alerts).toEqual([
      {
        kind: 'breach',
        rule: 'call.unanswered',
        force: FORCE,
        item: 'c1',
        at: T0 + 10_001,
        deadline: T0 + 10_000,
        policy: 'uk-default-v1',
        channel: '999',
      },
    ]);
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toHaveLength(1);
  });

  it('a breach fires at its own instant even when engine time jumps far past it', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toMatchObject([{ kind: 'breach', item: 'c1', at: T0 + 10_001 }]);
  });

  it('an unanswered 101 call breaches at presented_at + 180 001 ms', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0, '101'));
    engine.advanceTo(T0 + 180_000);
    expect(alerts).toEqual([]);
    engine.advanceTo(T0 + 180_001);
    expect(alerts).toMatchObject([{ kind: 'breach', channel: '101', deadline: T0 + 180_000 }]);
  });

  it('a call answered before its deadline is cleared and never breaches', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.advanceTo(T0 + 5 * SECOND);
    engine.apply(answered('c1', T0 + 4 * SECOND));
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toEqual([
      {
        kind: 'cleared',
        rule: 'call.unanswered',
        force: FORCE,
        item: 'c1',
        at: T0 + 5 * SECOND,
        wasBreached: false,
        status: 'done',
      },
    ]);
  });

  it('an answer dated ahead of engine time takes effect at its own at, before the deadline', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.apply(answered('c1', T0 + 8 * SECOND));
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toMatchObject([{ kind: 'cleared', at: T0 + 8 * SECOND, wasBreached: false }]);
  });

  it('a call answered after its breach is cleared with wasBreached', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.advanceTo(T0 + 20 * SECOND);
    engine.apply(answered('c1', T0 + 19 * SECOND));
    expect(alerts).toMatchObject([
      { kind: 'breach', item: 'c1', at: T0 + 10_001 },
      { kind: 'cleared', item: 'c1', at: T0 + 20 * SECOND, wasBreached: true, status: 'done' },
    ]);
  });

  it('a call answered at exactly presented_at + S + 1 ms is never unanswered-and-breached, so raises no alert', () => {
    // It is a breached call in every figure, but at the first instant it is breached it is
    // already answered: the live alert is for calls still ringing (see the report's notes).
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.apply(answered('c1', T0 + 10_001));
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toMatchObject([{ kind: 'cleared', at: T0 + 10_001, wasBreached: false }]);
  });

  it('a call abandoned before its deadline is cleared and never breaches', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0));
    engine.apply(abandoned('c1', T0 + 3 * SECOND));
    engine.advanceTo(T0 + HOUR);
    expect(alerts).toMatchObject([{ kind: 'cleared', at: T0 + 3 * SECOND, wasBreached: false }]);
  });

  it('a presentation that arrives after its deadline has passed breaches on arrival', () => {
    const { engine, alerts } = engineAt(T0 + MINUTE);
    engine.apply(presented('c1', T0));
    expect(alerts).toMatchObject([{ kind: 'breach', at: T0 + MINUTE, deadline: T0 + 10_000 }]);
  });

  it('a call whose presentation is dated ahead of engine time starts ringing at that time', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0 + MINUTE));
    engine.advanceTo(T0 + MINUTE + 10_000);
    expect(alerts).toEqual([]);
    engine.advanceTo(T0 + MINUTE + 10_001);
    expect(alerts).toMatchObject([{ kind: 'breach', at: T0 + MINUTE + 10_001 }]);
  });
});

describe('live attendance breach', () => {
  it('an unattended G1 urban incident breaches at opened_at + 900 001 ms', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 1));
    engine.advanceTo(T0 + 900_000);
    expect(alerts).toEqual([]);
    engine.advanceTo(T0 + 900_001);
    expect(alerts).toEqual([
      {
        kind: 'breach',
        rule: 'attendance',
        force: FORCE,
        item: 'i1',
        at: T0 + 900_001,
        deadline: T0 + 900_000,
        policy: 'uk-default-v1',
        grade: 1,
        area: 'urban',
      },
    ]);
  });

  it('an arrival at the deadline clears the incident with no breach', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 1));
    engine.apply(arrived('i1', T0 + 900_000));
    engine.advanceTo(T0 + DAY);
    expect(alerts).toMatchObject([
      { kind: 'cleared', rule: 'attendance', at: T0 + 900_000, wasBreached: false, status: 'done' },
    ]);
  });

  it('a regrade from G2 to G1 that puts the deadline in the past fires at once', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 2));
    engine.advanceTo(T0 + 20 * MINUTE);
    expect(alerts).toEqual([]);
    engine.apply(regraded('i1', T0 + 20 * MINUTE, 1));
    expect(ofRule(alerts, 'attendance')).toMatchObject([
      { kind: 'breach', at: T0 + 20 * MINUTE, deadline: T0 + 15 * MINUTE, grade: 1 },
    ]);
  });

  it('a regrade from G1 to G2 after a breach clears it, and the G2 deadline can breach later', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 1));
    engine.advanceTo(T0 + 16 * MINUTE);
    engine.apply(regraded('i1', T0 + 16 * MINUTE, 2));
    expect(ofRule(alerts, 'attendance')).toMatchObject([
      { kind: 'breach', at: T0 + 900_001, grade: 1 },
      { kind: 'cleared', at: T0 + 16 * MINUTE, wasBreached: true, status: 'pending' },
    ]);
    engine.advanceTo(T0 + 3_600_001);
    expect(ofRule(alerts, 'attendance').at(-1)).toMatchObject({
      kind: 'breach',
      at: T0 + 3_600_001,
      deadline: T0 + 3_600_000,
      grade: 2,
    });
  });

  it('outstandingIncidents lists unattended incidents with a target, soonest deadline first', () => {
    const { engine } = engineAt(T0);
    engine.apply(opened('g2', T0, 2, 'rural'));
    engine.apply(opened('g1', T0 + MINUTE, 1, 'rural'));
    engine.apply(opened('g3', T0, 3));
    engine.apply(opened('done', T0, 1));
    engine.apply(arrived('done', T0 + MINUTE));
    engine.advanceTo(T0 + 2 * MINUTE);
    expect(engine.outstandingIncidents()).toMatchObject([
      { incident: 'g1', grade: 1, area: 'rural', deadline: T0 + MINUTE + 1_200_000 },
      { incident: 'g2', grade: 2, area: 'rural', deadline: T0 + 3_600_000 },
    ]);
  });
});

describe('live victim-update breach (G1 urban: due = opened_at + 1800 s)', () => {
  const due = T0 + 1_800_000;

  it('an incident neither attended nor updated breaches at due + 1 ms', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 1));
    engine.advanceTo(due);
    expect(ofRule(alerts, 'victim_update')).toEqual([]);
    expect(engine.updatesOwed()).toMatchObject([{ incident: 'i1', due, status: 'pending' }]);
    engine.advanceTo(due + 1);
    expect(ofRule(alerts, 'victim_update')).toEqual([
      {
        kind: 'breach',
        rule: 'victim_update',
        force: FORCE,
        item: 'i1',
        at: due + 1,
        deadline: due,
        policy: 'uk-default-v1',
        grade: 1,
        area: 'urban',
      },
    ]);
  });

  it('an update by due means no victim-update breach', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(opened('i1', T0, 1));
    engine.apply(updated('i1', due));
    engine.advanceTo(T0 + DAY);
    expect(ofRule(alerts, 'victim_update')).toMatchObject([
      { kind: 'cleared', at: due, wasBreached: false, status: 'done' },
    ]);
    expect(engine.updatesOwed()).toEqual([]);
  });
});

describe('admission of events', () => {
  it('a second copy of an event is a duplicate and changes nothing', () => {
    const { engine } = engineAt(T0);
    const event = presented('c1', T0);
    expect(engine.apply(event)).toBe('accepted');
    expect(engine.apply(event)).toBe('duplicate');
    expect(engine.stats()).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 0, calls: 1 });
  });

  it('the same id with different content is a conflict, counted and not applied', () => {
    const { engine, alerts } = engineAt(T0);
    engine.apply(presented('c1', T0, '999', { id: 'nth-1' }));
    expect(engine.apply(answered('c1', T0 + SECOND, { id: 'nth-1' }))).toBe('conflict');
    engine.advanceTo(T0 + 10_001);
    expect(engine.stats()).toMatchObject({ accepted: 1, duplicates: 0, conflicts: 1 });
    // The answer was kept out, so the call is still ringing and breaches.
    expect(alerts).toMatchObject([{ kind: 'breach', item: 'c1' }]);
  });

  it('fed first copies only, a repeated id is a duplicate and the first copy stands, as ever', () => {
    const { engine, alerts } = engineAt(T0, uk, { firstCopiesOnly: true });
    const first = presented('c1', T0, '999', { id: 'fc-1' });
    expect(engine.apply(first)).toBe('accepted');
    expect(engine.apply(first)).toBe('duplicate');
    // The caller vouches that no other content comes for the id; whatever does is not
    // compared, and changes nothing.
    expect(engine.apply(answered('c1', T0 + SECOND, { id: 'fc-1' }))).toBe('duplicate');
    engine.advanceTo(T0 + 10_001);
    expect(engine.stats()).toMatchObject({ accepted: 1, duplicates: 2, conflicts: 0, calls: 1 });
    expect(alerts).toMatchObject([{ kind: 'breach', item: 'c1' }]);
    expect(engine.stats().eventIds).toBe(1);
  });

  it('an event of another force is refused as other_force', () => {
    const { engine } = engineAt(T0);
    const line = JSON.stringify({
      v: 1,
      id: 'x-1',
      type: 'call.presented',
      force: 'leics',
      at: new Date(T0).toISOString(),
      call: 'c1',
      channel: '999',
    });
    const parsed = parseEvent(line);
    if (!parsed.ok) throw new Error(parsed.detail);
    expect(engine.apply(parsed.event)).toBe('other_force');
    expect(engine.stats()).toMatchObject({ otherForce: 1, calls: 0 });
  });
});

describe('ringing calls', () => {
  it('ringingCalls lists calls presented and unresolved at engine time, oldest first', () => {
    const { engine } = engineAt(T0);
    engine.apply(presented('c2', T0 + 2 * SECOND, '101'));
    engine.apply(presented('c1', T0));
    engine.apply(presented('c3', T0 + SECOND));
    engine.apply(answered('c3', T0 + 3 * SECOND));
    engine.apply(presented('future', T0 + HOUR));
    engine.advanceTo(T0 + 15 * SECOND);
    expect(engine.ringingCalls()).toEqual([
      {
        call: 'c1',
        channel: '999',
        presentedAt: T0,
        deadline: T0 + 10_000,
        status: 'breached',
      },
      {
        call: 'c2',
        channel: '101',
        presentedAt: T0 + 2 * SECOND,
        deadline: T0 + 2 * SECOND + 180_000,
        status: 'pending',
      },
    ]);
  });
});

describe('bounded memory', () => {
  it('after 8 days the calls, incidents and event ids of the first day are gone', () => {
    const { engine } = engineAt(T0);
    for (let i = 0; i < 5; i++) {
      engine.apply(presented(`c${i}`, T0 + i * SECOND));
      engine.apply(answered(`c${i}`, T0 + i * SECOND + 3 * SECOND));
    }
    engine.apply(opened('i1', T0, 1));
    engine.apply(arrived('i1', T0 + 5 * MINUTE));
    engine.advanceTo(T0 + MINUTE);
    expect(engine.stats()).toMatchObject({ calls: 5, incidents: 1, eventIds: 12 });
    engine.advanceTo(T0 + 8 * DAY);
    expect(engine.stats()).toMatchObject({ calls: 0, incidents: 0, eventIds: 0 });
  });

  it('an event dated before the horizon (7 days + 1 h lateness) is refused as beyond_horizon', () => {
    const { engine } = engineAt(T0 + 8 * DAY);
    const horizon = T0 + 8 * DAY - 7 * DAY - HOUR;
    expect(engine.horizon).toBe(horizon);
    expect(engine.apply(presented('late', horizon - 1))).toBe('beyond_horizon');
    expect(engine.apply(presented('in-time', horizon))).toBe('accepted');
    expect(engine.stats()).toMatchObject({ beyondHorizon: 1, accepted: 1, calls: 1 });
  });
});

describe('TargetAlarm: window below target, with hysteresis', () => {
  /** A snapshot whose 1 h window holds `within` + `breached` answered calls of `channel`. */
  function hourWith(within: number, breached: number, channel: Channel = '999', policy = uk) {
    const asOf = T0 + HOUR;
    const withinMs = channel === '999' ? 10_000 : 180_000;
    const events: CallmonEvent[] = [];
    for (let i = 0; i < within + breached; i++) {
      const at = asOf - 30 * MINUTE + i * SECOND;
      events.push(presented(`c${i}`, at, channel));
      events.push(answered(`c${i}`, at + (i < within ? withinMs : withinMs + 1)));
    }
    return rollingSnapshot(events, { force: FORCE, asOf, policy });
  }

  it('alarms once when compliance falls below target, and not again while it stays below', () => {
    const alarm = new TargetAlarm({ policy: uk });
    expect(alarm.observe(hourWith(8, 2))).toMatchObject([
      {
        kind: 'window',
        channel: '999',
        window: '1h',
        state: 'below',
        compliance: 0.8,
        target: 0.9,
      },
    ]);
    expect(alarm.observe(hourWith(7, 3))).toEqual([]);
  });

  it('does not flap while compliance sits between target and target + hysteresis', () => {
    const alarm = new TargetAlarm({ policy: uk });
    alarm.observe(hourWith(8, 2));
    expect(alarm.observe(hourWith(90, 10))).toEqual([]);
    expect(alarm.observe(hourWith(91, 9))).toEqual([]);
    expect(alarm.observe(hourWith(89, 11))).toEqual([]);
  });

  it('recovers once compliance is back at target + hysteresis (0.90 + 0.02)', () => {
    const alarm = new TargetAlarm({ policy: uk });
    alarm.observe(hourWith(8, 2));
    expect(alarm.observe(hourWith(92, 8))).toMatchObject([
      { state: 'recovered', compliance: 0.92, target: 0.9 },
    ]);
    // Back at exactly the target is not below it; just under is.
    expect(alarm.observe(hourWith(90, 10))).toEqual([]);
    expect(alarm.observe(hourWith(89, 11))).toMatchObject([{ state: 'below', compliance: 0.89 }]);
  });

  it('recovers at exactly target + hysteresis for a force target of 0.80 too (0.82)', () => {
    const policy = Policy.fromForceFile({
      force: FORCE,
      versions: [{ id: 'nth-v1', effective_from: null, calls: { '101': { target_ratio: 0.8 } } }],
    });
    const alarm = new TargetAlarm({ policy });
    expect(alarm.observe(hourWith(7, 3, '101', policy))).toMatchObject([
      { channel: '101', state: 'below', target: 0.8 },
    ]);
    expect(alarm.observe(hourWith(82, 18, '101', policy))).toMatchObject([
      { channel: '101', state: 'recovered', compliance: 0.82 },
    ]);
  });

  it('stays silent until enough calls are decided (default 10)', () => {
    const alarm = new TargetAlarm({ policy: uk });
    expect(alarm.observe(hourWith(0, 9))).toEqual([]);
    expect(alarm.observe(hourWith(0, 10))).toMatchObject([{ state: 'below', compliance: 0 }]);
  });
});
