import { type CallmonEvent, parseEvent } from '@callmon/events';
import { describe, expect, it } from 'vitest';
import { isoWeekOf } from './calendar.ts';
import { distribution, nearestRank } from './figures.ts';
import { Policy, PolicyError } from './policy.ts';
import { factsAsOf, rollingSnapshot, weeklyReport } from './reports.ts';
import { assessCall, assessIncident } from './rules.ts';
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
 * docs/metrics.md, section by section, as executable examples. Fixtures are wire events
 * (JSON lines) parsed by the real contract; every expected figure is worked by hand from
 * the spec's wording, never read back from the code under test.
 */

const WEEK = '2024-W08';
/** Late enough that every fixture of the week is fully visible. */
const AFTER_WEEK = Date.parse('2024-03-01T00:00:00.000Z');

type Channel = '999' | '101';

/** A 999/101 call presented at `at` and answered `afterMs` later. */
const answeredCall = (call: string, at: number, afterMs: number, channel: Channel = '999') => [
  presented(call, at, channel),
  answered(call, at + afterMs),
];

// ---- evaluation through the batch evaluator -------------------------------------------

const uk = Policy.ukDefault();

function report(events: CallmonEvent[], asOf = AFTER_WEEK, policy = uk, week = WEEK) {
  return weeklyReport(events, { force: FORCE, week, asOf, policy });
}

function callAsOf(events: CallmonEvent[], call: string, asOf: number, policy = uk) {
  const facts = factsAsOf(events, FORCE, asOf).calls.get(call);
  if (facts === undefined) throw new Error(`no facts for call ${call}`);
  return assessCall(facts, policy, asOf);
}

function incidentAsOf(events: CallmonEvent[], incident: string, asOf: number, policy = uk) {
  const facts = factsAsOf(events, FORCE, asOf).incidents.get(incident);
  if (facts === undefined) throw new Error(`no facts for incident ${incident}`);
  return assessIncident(facts, policy, asOf);
}

function forcePolicy(...versions: Record<string, unknown>[]) {
  return Policy.fromForceFile({ force: FORCE, versions });
}

const abandonedPolicy = (rule: 'exclude' | 'breach_if_late' | 'breach') =>
  forcePolicy({
    id: `nth-abandoned-${rule}`,
    effective_from: null,
    calls: { '999': { abandoned: rule } },
  });

const NO_DISTRIBUTION = { p50: null, p90: null, p95: null, max: null, mean: null };

// ---- §1 ---------------------------------------------------------------------------------

describe('§1 target policy', () => {
  it('uk-default-v1 holds the national defaults', () => {
    const version = uk.versionAt(T0);
    expect(version.id).toBe('uk-default-v1');
    expect(version.timezone).toBe('Europe/London');
    expect(version.calls['999']).toEqual({
      answer_within_s: 10,
      target_ratio: 0.9,
      abandoned: 'exclude',
    });
    expect(version.calls['101']).toEqual({
      answer_within_s: 180,
      target_ratio: 0.9,
      abandoned: 'exclude',
    });
    expect(version.attendance.targets).toEqual([
      { grade: 1, area: 'urban', within_s: 900 },
      { grade: 1, area: 'rural', within_s: 1200 },
      { grade: 2, within_s: 3600 },
    ]);
    expect(version.attendance.target_ratio).toBe(0.9);
    expect(version.victim_update.grace_s).toBe(900);
  });

  it('a force file that overrides one key keeps every other default', () => {
    const policy = forcePolicy({
      id: 'nth-v1',
      effective_from: null,
      calls: { '101': { answer_within_s: 120 } },
    });
    const version = policy.versionAt(T0);
    expect(version.id).toBe('nth-v1');
    expect(version.calls['101']).toEqual({
      answer_within_s: 120,
      target_ratio: 0.9,
      abandoned: 'exclude',
    });
    expect(version.calls['999']).toEqual({
      answer_within_s: 10,
      target_ratio: 0.9,
      abandoned: 'exclude',
    });
    expect(version.attendance).toEqual({
      targets: [
        { grade: 1, area: 'urban', within_s: 900 },
        { grade: 1, area: 'rural', within_s: 1200 },
        { grade: 2, within_s: 3600 },
      ],
      target_ratio: 0.9,
    });
    expect(version.victim_update).toEqual({ grace_s: 900 });
    expect(version.timezone).toBe('Europe/London');
  });

  describe('a versioned policy judges each item by the version in effect when it began', () => {
    const SWITCH = Date.parse('2024-02-21T00:00:00.000Z');
    const policy = forcePolicy(
      { id: 'nth-v1', effective_from: null, calls: { '101': { answer_within_s: 120 } } },
      {
        id: 'nth-v2',
        effective_from: '2024-02-21T00:00:00Z',
        calls: { '999': { answer_within_s: 15 } },
        attendance: {
          targets: [
            { grade: 1, area: 'urban', within_s: 600 },
            { grade: 1, area: 'rural', within_s: 1200 },
            { grade: 2, within_s: 3600 },
          ],
        },
      },
    );

    it('a later version inherits the overrides of the one before it', () => {
      expect(policy.versionAt(SWITCH).calls['101'].answer_within_s).toBe(120);
      expect(policy.versionAt(SWITCH).calls['999'].answer_within_s).toBe(15);
      expect(policy.versionAt(SWITCH - 1).calls['999'].answer_within_s).toBe(10);
    });

    it('a 999 call presented 1 ms before the switch keeps the old 10 s target even when answered after it', () => {
      const events = answeredCall('c1', SWITCH - 1, 12 * SECOND);
      const call = callAsOf(events, 'c1', AFTER_WEEK, policy);
      expect(call.version.id).toBe('nth-v1');
      expect(call.class).toBe('breached');
    });

    it('a 999 call presented at the switch is judged by the new 15 s target', () => {
      const events = answeredCall('c1', SWITCH, 12 * SECOND);
      const call = callAsOf(events, 'c1', AFTER_WEEK, policy);
      expect(call.version.id).toBe('nth-v2');
      expect(call.class).toBe('within');
    });

    it('an incident is judged by the version at its opened_at', () => {
      const events = [
        opened('before', SWITCH - MINUTE, 1),
        arrived('before', SWITCH - MINUTE + 700 * SECOND),
        opened('after', SWITCH + MINUTE, 1),
        arrived('after', SWITCH + MINUTE + 700 * SECOND),
      ];
      expect(incidentAsOf(events, 'before', AFTER_WEEK, policy).target?.attendance).toBe('within');
      expect(incidentAsOf(events, 'after', AFTER_WEEK, policy).target?.attendance).toBe('breached');
    });

    it('a report names the versions in effect during its week', () => {
      expect(report([], AFTER_WEEK, policy, '2024-W07').policy).toBe('nth-v1');
      expect(report([], AFTER_WEEK, policy).policy).toBe('nth-v1,nth-v2');
      expect(report([], AFTER_WEEK, policy, '2024-W09').policy).toBe('nth-v2');
    });
  });

  describe('an invalid policy is refused with a PolicyError naming the field', () => {
    function refusal(versions: Record<string, unknown>[]): PolicyError {
      try {
        forcePolicy(...versions);
      } catch (error) {
        if (error instanceof PolicyError) return error;
        throw error;
      }
      throw new Error('the policy was accepted');
    }
    const v1 = { id: 'nth-v1', effective_from: null };

    it('negative seconds', () => {
      const error = refusal([{ ...v1, calls: { '999': { answer_within_s: -10 } } }]);
      expect(error.field).toBe('versions.0.calls.999.answer_within_s');
      expect(error.message).toContain('versions.0.calls.999.answer_within_s');
    });

    it('a target ratio of 1.5', () => {
      const error = refusal([{ ...v1, attendance: { target_ratio: 1.5 } }]);
      expect(error.field).toBe('versions.0.attendance.target_ratio');
      expect(error.message).toContain('versions.0.attendance.target_ratio');
    });

    it('an unknown key', () => {
      const error = refusal([{ ...v1, calls: { '999': { answer_within: 10 } } }]);
      expect(error.message).toContain('versions.0.calls.999');
      expect(error.message).toContain('answer_within');
    });

    it('a time zone the runtime does not know', () => {
      const error = refusal([{ ...v1, timezone: 'Europe/Londres' }]);
      expect(error.field).toBe('versions.0.timezone');
      expect(error.message).toContain('versions.0.timezone');
    });

    it('overlapping attendance targets for one grade', () => {
      const targets = [
        { grade: 2, within_s: 3600 },
        { grade: 2, area: 'urban', within_s: 1800 },
      ];
      const error = refusal([{ ...v1, attendance: { targets } }]);
      expect(error.field).toBe('versions.0.attendance.targets.1');
      expect(error.message).toContain('versions.0.attendance.targets.1');
    });

    it('effective_from that does not increase from one version to the next', () => {
      const error = refusal([
        { id: 'nth-v1', effective_from: '2024-03-01T00:00:00Z' },
        { id: 'nth-v2', effective_from: '2024-03-01T00:00:00Z' },
      ]);
      expect(error.field).toBe('versions.1.effective_from');
      expect(error.message).toContain('versions.1.effective_from');
    });

    it('a negative victim-update grace', () => {
      const error = refusal([{ ...v1, victim_update: { grace_s: -1 } }]);
      expect(error.field).toBe('versions.0.victim_update.grace_s');
    });
  });
});

// ---- §2 ---------------------------------------------------------------------------------

describe('§2 calls', () => {
  describe('facts of a call', () => {
    it('presented_at is the earliest call.presented, and the channel comes from that event', () => {
      const events = [presented('c1', T0 + 2 * SECOND, '999'), presented('c1', T0, '101')];
      const facts = factsAsOf(events, FORCE, AFTER_WEEK).calls.get('c1');
      expect(facts?.presentedAt).toBe(T0);
      expect(facts?.channel).toBe('101');
      const figures = report(events).calls;
      expect(figures['101'].presented).toBe(1);
      expect(figures['999'].presented).toBe(0);
    });

    it('two call.presented at the same instant: the smallest event id gives the channel', () => {
      const b = presented('c1', T0, '999', { id: 'p-b' });
      const a = presented('c1', T0, '101', { id: 'p-a' });
      for (const events of [
        [b, a],
        [a, b],
      ]) {
        expect(factsAsOf(events, FORCE, AFTER_WEEK).calls.get('c1')?.channel).toBe('101');
      }
    });

    it('answered_at and abandoned_at are the earliest of their events', () => {
      const events = [
        presented('c1', T0),
        answered('c1', T0 + 12 * SECOND),
        answered('c1', T0 + 8 * SECOND),
        presented('c2', T0),
        abandoned('c2', T0 + 30 * SECOND),
        abandoned('c2', T0 + 9 * SECOND),
      ];
      expect(callAsOf(events, 'c1', AFTER_WEEK).answerMs).toBe(8 * SECOND);
      const book = factsAsOf(events, FORCE, AFTER_WEEK);
      expect(book.calls.get('c2')?.abandonedAt).toBe(T0 + 9 * SECOND);
    });
  });

  describe('outcome', () => {
    it('a call answered and abandoned at the same instant is answered', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + 5000), answered('c1', T0 + 5000)];
      expect(callAsOf(events, 'c1', AFTER_WEEK).outcome).toBe('answered');
    });

    it('a call answered before it is abandoned is answered', () => {
      const events = [presented('c1', T0), answered('c1', T0 + 5000), abandoned('c1', T0 + 5001)];
      expect(callAsOf(events, 'c1', AFTER_WEEK).outcome).toBe('answered');
    });

    it('a call answered after it was abandoned is abandoned, and its answer time is not counted', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + 5000), answered('c1', T0 + 5001)];
      expect(callAsOf(events, 'c1', AFTER_WEEK).outcome).toBe('abandoned');
      const figures = report(events).calls['999'];
      expect(figures).toMatchObject({ presented: 1, answered: 0, abandoned: 1, excluded: 1 });
      expect(figures.answer_ms).toEqual(NO_DISTRIBUTION);
    });

    it('a call with neither answer nor abandon is unresolved', () => {
      const events = [presented('c1', T0)];
      expect(report(events).calls['999']).toMatchObject({ presented: 1, unresolved: 1 });
    });
  });

  describe('classification against S = answer_within_s × 1000', () => {
    it('a 999 call answered at exactly 10 000 ms is within target', () => {
      expect(callAsOf(answeredCall('c1', T0, 10_000), 'c1', AFTER_WEEK).class).toBe('within');
    });

    it('a 999 call answered at 10 001 ms is breached', () => {
      expect(callAsOf(answeredCall('c1', T0, 10_001), 'c1', AFTER_WEEK).class).toBe('breached');
    });

    it('a 101 call answered at exactly 180 000 ms is within target', () => {
      const events = answeredCall('c1', T0, 180_000, '101');
      expect(callAsOf(events, 'c1', AFTER_WEEK).class).toBe('within');
    });

    it('a 101 call answered at 180 001 ms is breached', () => {
      const events = answeredCall('c1', T0, 180_001, '101');
      expect(callAsOf(events, 'c1', AFTER_WEEK).class).toBe('breached');
    });

    it('an unanswered 999 call is pending at presented_at + 10 000 ms and breached 1 ms later', () => {
      const events = [presented('c1', T0)];
      expect(callAsOf(events, 'c1', T0 + 10_000).class).toBe('pending');
      expect(callAsOf(events, 'c1', T0 + 10_001).class).toBe('breached');
    });

    it('an unanswered 101 call is pending at presented_at + 180 000 ms and breached 1 ms later', () => {
      const events = [presented('c1', T0, '101')];
      expect(callAsOf(events, 'c1', T0 + 180_000).class).toBe('pending');
      expect(callAsOf(events, 'c1', T0 + 180_001).class).toBe('breached');
    });

    it('a negative answer time is taken as 0 ms and counted in data_quality.negative_durations', () => {
      const events = [presented('c1', T0), answered('c1', T0 - 2 * SECOND)];
      const week = report(events);
      expect(week.calls['999']).toMatchObject({ answered: 1, within: 1, breached: 0 });
      expect(week.calls['999'].answer_ms).toEqual({ p50: 0, p90: 0, p95: 0, max: 0, mean: 0 });
      expect(week.calls['999'].bands).toEqual({ le_10s: 1, s10_to_60: 0, gt_60s: 0 });
      expect(week.data_quality).toEqual({ negative_durations: 1, orphan_events: 0 });
    });
  });

  describe('abandoned calls', () => {
    it('under the default policy (exclude) an abandoned call is excluded however late', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + 10 * MINUTE)];
      expect(report(events).calls['999']).toMatchObject({
        abandoned: 1,
        excluded: 1,
        breached: 0,
        compliance: null,
      });
    });

    it('breach_if_late: a call abandoned at exactly S is excluded', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + 10_000)];
      expect(callAsOf(events, 'c1', AFTER_WEEK, abandonedPolicy('breach_if_late')).class).toBe(
        'excluded',
      );
    });

    it('breach_if_late: a call abandoned at S + 1 ms is breached', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + 10_001)];
      expect(callAsOf(events, 'c1', AFTER_WEEK, abandonedPolicy('breach_if_late')).class).toBe(
        'breached',
      );
    });

    it('breach: every abandoned call is breached, even one abandoned after 1 s', () => {
      const events = [presented('c1', T0), abandoned('c1', T0 + SECOND)];
      const figures = report(events, AFTER_WEEK, abandonedPolicy('breach')).calls['999'];
      expect(figures).toMatchObject({ abandoned: 1, breached: 1, excluded: 0, compliance: 0 });
    });

    it('the abandoned rule is per channel: a 999 override leaves 101 excluding', () => {
      const events = [presented('c1', T0, '101'), abandoned('c1', T0 + 10 * MINUTE)];
      expect(callAsOf(events, 'c1', AFTER_WEEK, abandonedPolicy('breach')).class).toBe('excluded');
    });
  });

  describe('compliance', () => {
    it('is within / (within + breached): pending and excluded calls stay out', () => {
      const asOf = T0 + 20 * SECOND;
      const events = [
        ...answeredCall('w1', T0, 1000),
        ...answeredCall('w2', T0, 5000),
        ...answeredCall('w3', T0, 10_000),
        ...answeredCall('b1', T0, 10_001),
        presented('p1', asOf - 1000),
        presented('x1', T0),
        abandoned('x1', T0 + 3000),
      ];
      expect(report(events, asOf).calls['999']).toMatchObject({
        presented: 6,
        answered: 4,
        abandoned: 1,
        unresolved: 1,
        within: 3,
        breached: 1,
        pending: 1,
        excluded: 1,
        compliance: 0.75,
      });
    });

    it('is null when no call is within or breached', () => {
      const events = [presented('p1', T0), presented('x1', T0), abandoned('x1', T0 + 20_000)];
      const figures = report(events, T0 + 5000).calls['999'];
      expect(figures).toMatchObject({ pending: 2, within: 0, breached: 0, compliance: null });
    });
  });

  describe('orphans', () => {
    it('answer and abandon events of a call never presented are in no figure, but counted by event', () => {
      const events = [answered('o1', T0), abandoned('o2', T0 + SECOND), answered('o2', T0 + 2000)];
      const week = report(events);
      expect(week.calls['999']).toMatchObject({ presented: 0, answered: 0, abandoned: 0 });
      expect(week.calls['101']).toMatchObject({ presented: 0, answered: 0, abandoned: 0 });
      expect(week.data_quality.orphan_events).toBe(3);
    });

    it('an orphan event is counted in the week of its own at', () => {
      const lastMsOfW07 = Date.parse('2024-02-18T23:59:59.999Z');
      const firstMsOfW08 = Date.parse('2024-02-19T00:00:00.000Z');
      const events = [answered('o1', lastMsOfW07), answered('o2', firstMsOfW08)];
      expect(report(events).data_quality.orphan_events).toBe(1);
      expect(report(events, AFTER_WEEK, uk, '2024-W07').data_quality.orphan_events).toBe(1);
    });

    it('an answer whose call.presented is dated after T is still an orphan as of T', () => {
      const events = [answered('c1', T0), presented('c1', T0 + 5 * SECOND)];
      const asOfT = report(events, T0 + SECOND);
      expect(asOfT.data_quality.orphan_events).toBe(1);
      expect(asOfT.calls['999'].presented).toBe(0);
      // Once the presentation is visible the call is no orphan, and answered 5 s early.
      const later = report(events, T0 + 5 * SECOND);
      expect(later.data_quality).toEqual({ negative_durations: 1, orphan_events: 0 });
      expect(later.calls['999']).toMatchObject({ presented: 1, answered: 1, within: 1 });
    });
  });

  it('events dated after T are ignored', () => {
    const events = [
      presented('c1', T0),
      answered('c1', T0 + 5 * SECOND),
      presented('c2', T0 + 4 * SECOND),
    ];
    const figures = report(events, T0 + 3 * SECOND).calls['999'];
    expect(figures).toMatchObject({ presented: 1, answered: 0, unresolved: 1, pending: 1 });
    expect(figures.answer_ms).toEqual(NO_DISTRIBUTION);
  });
});

// ---- §3 ---------------------------------------------------------------------------------

describe('§3 attendance', () => {
  describe('targets', () => {
    it('a G1 urban incident has a 900 s deadline', () => {
      const target = incidentAsOf([opened('i1', T0, 1, 'urban')], 'i1', T0).target;
      expect(target).toMatchObject({ key: 'G1-urban', deadline: T0 + 900_000 });
    });

    it('a G1 rural incident has a 1200 s deadline', () => {
      const target = incidentAsOf([opened('i1', T0, 1, 'rural')], 'i1', T0).target;
      expect(target).toMatchObject({ key: 'G1-rural', deadline: T0 + 1_200_000 });
    });

    it('a G2 incident has a 3600 s deadline in any area', () => {
      for (const area of ['urban', 'rural'] as const) {
        const target = incidentAsOf([opened('i1', T0, 2, area)], 'i1', T0).target;
        expect(target).toMatchObject({ key: 'G2', deadline: T0 + 3_600_000 });
      }
    });

    it('G3 and G4 incidents have no target and appear in no attendance or victim figure', () => {
      const events = [
        opened('g3', T0, 3),
        opened('g4', T0, 4, 'rural'),
        arrived('g3', T0 + 5 * HOUR),
      ];
      expect(incidentAsOf(events, 'g3', AFTER_WEEK).target).toBeUndefined();
      expect(incidentAsOf(events, 'g4', AFTER_WEEK).target).toBeUndefined();
      const week = report(events);
      expect(Object.keys(week.attendance)).toEqual(['G1-urban', 'G1-rural', 'G2']);
      for (const figures of Object.values(week.attendance)) expect(figures.incidents).toBe(0);
      expect(week.victim_updates).toEqual({ met: 0, breached: 0, pending: 0, compliance: null });
    });
  });

  describe('classification', () => {
    it('an arrival at exactly the deadline is within; 1 ms later is breached', () => {
      const events = [
        opened('i1', T0, 1),
        arrived('i1', T0 + 900_000),
        opened('i2', T0, 1),
        arrived('i2', T0 + 900_001),
      ];
      expect(report(events).attendance['G1-urban']).toEqual({
        incidents: 2,
        attended: 2,
        within: 1,
        breached: 1,
        pending: 0,
        compliance: 0.5,
        attend_ms: { p50: 900_000, p90: 900_001, p95: 900_001, max: 900_001, mean: 900_000.5 },
      });
    });

    it('a rural G1 arrival at exactly 1200 s is within; 1 ms later is breached', () => {
      const events = [
        opened('i1', T0, 1, 'rural'),
        arrived('i1', T0 + 1_200_000),
        opened('i2', T0, 1, 'rural'),
        arrived('i2', T0 + 1_200_001),
      ];
      expect(report(events).attendance['G1-rural']).toMatchObject({ within: 1, breached: 1 });
    });

    it('an incident not attended is pending at its deadline and breached 1 ms after', () => {
      const events = [opened('i1', T0, 1)];
      expect(incidentAsOf(events, 'i1', T0 + 900_000).target?.attendance).toBe('pending');
      expect(incidentAsOf(events, 'i1', T0 + 900_001).target?.attendance).toBe('breached');
      const atDeadline = report(events, T0 + 900_000).attendance['G1-urban'];
      expect(atDeadline).toMatchObject({ incidents: 1, attended: 0, pending: 1, compliance: null });
    });

    it('an arrival dated after T is not seen: the incident is pending or breached as of T', () => {
      const events = [opened('i1', T0, 2), arrived('i1', T0 + 10 * MINUTE)];
      expect(incidentAsOf(events, 'i1', T0 + 5 * MINUTE).target?.attendance).toBe('pending');
    });

    it('a negative attend_ms is taken as 0 and counted in negative_durations', () => {
      const events = [opened('i1', T0, 1), arrived('i1', T0 - 30 * SECOND)];
      const week = report(events);
      expect(week.attendance['G1-urban']).toMatchObject({ attended: 1, within: 1 });
      expect(week.attendance['G1-urban']?.attend_ms).toEqual({
        p50: 0,
        p90: 0,
        p95: 0,
        max: 0,
        mean: 0,
      });
      expect(week.data_quality.negative_durations).toBe(1);
    });

    it('opened_at is the earliest incident.opened and the area comes from it', () => {
      const events = [opened('i1', T0 + MINUTE, 1, 'rural'), opened('i1', T0, 1, 'urban')];
      const incident = incidentAsOf(events, 'i1', AFTER_WEEK);
      expect(incident.area).toBe('urban');
      expect(incident.target?.deadline).toBe(T0 + 900_000);
    });
  });

  describe('effective grade: the grade at max(opened_at, min(arrived_at, T))', () => {
    it('a regrade before the arrival counts: G2 regraded to G1 then attended at 20 min is a G1 breach', () => {
      const events = [
        opened('i1', T0, 2),
        regraded('i1', T0 + 10 * MINUTE, 1),
        arrived('i1', T0 + 20 * MINUTE),
      ];
      const week = report(events);
      expect(week.attendance['G1-urban']).toMatchObject({ incidents: 1, breached: 1 });
      expect(week.attendance.G2?.incidents).toBe(0);
    });

    it('a regrade after the arrival does not count', () => {
      const events = [
        opened('i1', T0, 1),
        arrived('i1', T0 + 20 * MINUTE),
        regraded('i1', T0 + 25 * MINUTE, 2),
      ];
      const week = report(events);
      expect(week.attendance['G1-urban']).toMatchObject({ incidents: 1, breached: 1 });
      expect(week.attendance.G2?.incidents).toBe(0);
    });

    it('a regrade before T counts for an incident not yet attended', () => {
      const events = [opened('i1', T0, 1), regraded('i1', T0 + 5 * MINUTE, 2)];
      const incident = incidentAsOf(events, 'i1', T0 + 20 * MINUTE);
      expect(incident.grade).toBe(2);
      expect(incident.target).toMatchObject({
        key: 'G2',
        deadline: T0 + 3_600_000,
        attendance: 'pending',
      });
    });

    it('a regrade dated after T does not count as of T', () => {
      const events = [opened('i1', T0, 1), regraded('i1', T0 + 5 * MINUTE, 2)];
      const incident = incidentAsOf(events, 'i1', T0 + 4 * MINUTE);
      expect(incident.grade).toBe(1);
      expect(incident.target?.key).toBe('G1-urban');
    });

    it('a regrade at the same instant as the opening wins the tie, whatever the ids', () => {
      const events = [
        opened('i1', T0, 1, 'urban', { id: 'z-opened' }),
        regraded('i1', T0, 2, { id: 'a-regraded' }),
      ];
      expect(incidentAsOf(events, 'i1', T0).grade).toBe(2);
    });

    it('a regrade from G1 to G3 takes the incident out of attendance', () => {
      const events = [opened('i1', T0, 1), regraded('i1', T0 + 5 * MINUTE, 3)];
      const week = report(events);
      expect(incidentAsOf(events, 'i1', AFTER_WEEK).target).toBeUndefined();
      for (const figures of Object.values(week.attendance)) expect(figures.incidents).toBe(0);
    });
  });
});

// ---- §4 ---------------------------------------------------------------------------------

describe('§4 victim updates on delay (G1 urban: deadline = opened + 900 s, due = deadline + 900 s)', () => {
  const deadline = T0 + 900_000;
  const due = deadline + 900_000;
  const victimClass = (events: CallmonEvent[], asOf: number) =>
    incidentAsOf(events, 'i1', asOf).target?.victimUpdate;

  it('due is the deadline plus grace_s × 1000', () => {
    expect(incidentAsOf([opened('i1', T0, 1)], 'i1', T0).target?.due).toBe(due);
  });

  it('rule 1: at T = deadline the incident is not counted (not delayed yet)', () => {
    const events = [opened('i1', T0, 1)];
    expect(victimClass(events, deadline)).toBe('not_counted');
    expect(report(events, deadline).victim_updates).toEqual({
      met: 0,
      breached: 0,
      pending: 0,
      compliance: null,
    });
  });

  it('rule 2: an arrival at exactly due means no update was owed', () => {
    const events = [opened('i1', T0, 1), arrived('i1', due)];
    expect(victimClass(events, AFTER_WEEK)).toBe('not_applicable');
  });

  it('rule 2 comes before rule 3: an incident attended within the grace is not applicable even if updated', () => {
    const events = [opened('i1', T0, 1), updated('i1', deadline + 1), arrived('i1', due - 1)];
    expect(victimClass(events, AFTER_WEEK)).toBe('not_applicable');
  });

  it('rule 3: an update at exactly due is met', () => {
    const events = [opened('i1', T0, 1), updated('i1', due)];
    expect(victimClass(events, AFTER_WEEK)).toBe('met');
  });

  it('rule 3: an update made before the deadline counts too', () => {
    const events = [opened('i1', T0, 1), updated('i1', T0 + MINUTE)];
    expect(victimClass(events, deadline + 1)).toBe('met');
  });

  it('rule 3 comes before rule 4: an incident updated in time and attended late stays met', () => {
    const events = [opened('i1', T0, 1), updated('i1', due - MINUTE), arrived('i1', due + HOUR)];
    expect(victimClass(events, AFTER_WEEK)).toBe('met');
  });

  it('rule 4: an update 1 ms after due is too late, so the incident is breached', () => {
    const events = [opened('i1', T0, 1), updated('i1', due + 1)];
    expect(victimClass(events, AFTER_WEEK)).toBe('breached');
  });

  it('rule 4: an arrival 1 ms after due with no update is breached', () => {
    const events = [opened('i1', T0, 1), arrived('i1', due + 1)];
    expect(victimClass(events, AFTER_WEEK)).toBe('breached');
  });

  it('rule 5: neither attended nor updated, pending from deadline + 1 ms up to T = due, breached at due + 1 ms', () => {
    const events = [opened('i1', T0, 1)];
    expect(victimClass(events, deadline + 1)).toBe('pending');
    expect(victimClass(events, due)).toBe('pending');
    expect(victimClass(events, due + 1)).toBe('breached');
  });

  it('compliance is met / (met + breached); pending and not-applicable stay out', () => {
    const asOf = due + 1;
    const events = [
      opened('i1', T0, 1),
      updated('i1', T0 + MINUTE), // met
      opened('i2', T0, 1), // breached
      opened('i3', T0 + MINUTE, 1), // pending: its due is a minute later
      opened('i4', T0, 1),
      arrived('i4', deadline + MINUTE), // not applicable
      opened('i5', T0 + 20 * MINUTE, 1), // not counted: its deadline is still ahead
    ];
    expect(report(events, asOf).victim_updates).toEqual({
      met: 1,
      breached: 1,
      pending: 1,
      compliance: 0.5,
    });
  });
});

// ---- §5 ---------------------------------------------------------------------------------

describe('§5 distributions', () => {
  const seconds = (...values: number[]) => values.map((value) => value * SECOND);
  const oneTo = (n: number) => Array.from({ length: n }, (_, i) => (n - i) * SECOND);

  it('nearest rank of n = 1: every percentile is the one value', () => {
    expect(distribution(seconds(7))).toEqual({
      p50: 7000,
      p90: 7000,
      p95: 7000,
      max: 7000,
      mean: 7000,
    });
  });

  it('nearest rank of n = 2: p50 is rank 1, p90 and p95 are rank 2', () => {
    expect(distribution(seconds(3, 1))).toEqual({
      p50: 1000,
      p90: 3000,
      p95: 3000,
      max: 3000,
      mean: 2000,
    });
  });

  it('nearest rank of n = 10: p50 rank 5, p90 rank 9, p95 rank ceil(9.5) = 10', () => {
    expect(distribution(oneTo(10))).toEqual({
      p50: 5000,
      p90: 9000,
      p95: 10_000,
      max: 10_000,
      mean: 5500,
    });
  });

  it('nearest rank of n = 20: p50 rank 10, p90 rank 18, p95 rank 19', () => {
    expect(distribution(oneTo(20))).toEqual({
      p50: 10_000,
      p90: 18_000,
      p95: 19_000,
      max: 20_000,
      mean: 10_500,
    });
  });

  it('nearest rank of n = 70: p90 is rank 63 exactly (0.9 × 70), p95 rank ceil(66.5) = 67', () => {
    expect(distribution(oneTo(70))).toEqual({
      p50: 35_000,
      p90: 63_000,
      p95: 67_000,
      max: 70_000,
      mean: 35_500,
    });
    const sorted = oneTo(70).reverse();
    expect(nearestRank(sorted, 90)).toBe(63_000);
  });

  it('an empty list has null percentiles and a null mean', () => {
    expect(distribution([])).toEqual(NO_DISTRIBUTION);
    expect(nearestRank([], 50)).toBeNull();
  });

  it('the mean is the plain arithmetic mean, not rounded', () => {
    expect(distribution([1, 2]).mean).toBe(1.5);
    expect(distribution([1, 1, 2]).mean).toBe(4 / 3);
  });

  it('answer_ms percentiles cover answered calls only', () => {
    const events = [
      ...answeredCall('a1', T0, 2000),
      ...answeredCall('a2', T0, 4000),
      presented('x1', T0),
      abandoned('x1', T0 + 60 * SECOND),
      presented('u1', T0),
    ];
    expect(report(events).calls['999'].answer_ms).toEqual({
      p50: 2000,
      p90: 4000,
      p95: 4000,
      max: 4000,
      mean: 3000,
    });
  });

  it('answer bands: 10 000 ms is le_10s, 10 001 and 60 000 ms are s10_to_60, 60 001 ms is gt_60s', () => {
    const events = [
      ...answeredCall('c1', T0, 10_000, '101'),
      ...answeredCall('c2', T0, 10_001, '101'),
      ...answeredCall('c3', T0, 60_000, '101'),
      ...answeredCall('c4', T0, 60_001, '101'),
      presented('x1', T0, '101'),
      abandoned('x1', T0 + 90 * SECOND),
    ];
    const figures = report(events).calls['101'];
    expect(figures.bands).toEqual({ le_10s: 1, s10_to_60: 2, gt_60s: 1 });
    // Bands are a publication figure independent of the 101 target: all four are within 180 s.
    expect(figures.within).toBe(4);
  });
});

// ---- §6 ---------------------------------------------------------------------------------

describe('§6 windows', () => {
  describe('rolling window (T − W, T]', () => {
    const T = T0 + HOUR;
    const W = 15 * MINUTE;
    const snapshot = (events: CallmonEvent[]) =>
      rollingSnapshot(events, { force: FORCE, asOf: T, policy: uk });

    it('a call presented exactly at T − W is outside the 15-minute window but inside the hour', () => {
      const windows = snapshot([presented('c1', T - W)]).windows;
      expect(windows['15m'].calls['999'].presented).toBe(0);
      expect(windows['1h'].calls['999'].presented).toBe(1);
    });

    it('a call presented at T − W + 1 ms is inside the 15-minute window', () => {
      expect(snapshot([presented('c1', T - W + 1)]).windows['15m'].calls['999'].presented).toBe(1);
    });

    it('a call presented exactly at T is inside every window, pending', () => {
      const windows = snapshot([presented('c1', T)]).windows;
      for (const name of ['15m', '1h', '24h', '7d'] as const) {
        expect(windows[name].calls['999']).toMatchObject({ presented: 1, pending: 1 });
      }
    });

    it('a call presented 1 ms after T is in no window', () => {
      const windows = snapshot([presented('c1', T + 1)]).windows;
      expect(windows['7d'].calls['999'].presented).toBe(0);
    });

    it('incidents follow opened_at: T − W out, T − W + 1 ms in', () => {
      const windows = snapshot([opened('out', T - W, 1), opened('in', T - W + 1, 1)]).windows;
      expect(windows['15m'].attendance['G1-urban']?.incidents).toBe(1);
      expect(windows['1h'].attendance['G1-urban']?.incidents).toBe(2);
    });

    it('a 7-day window reaches back exactly 7 days', () => {
      const windows = snapshot([
        presented('out', T - 7 * DAY),
        presented('in', T - 7 * DAY + 1),
      ]).windows;
      expect(windows['7d'].calls['999'].presented).toBe(1);
    });
  });

  describe('calendar weeks in Europe/London', () => {
    it('2024-W08 (all GMT) is Monday 00:00Z to the next Monday 00:00Z', () => {
      const week = report([]);
      expect(week.from).toBe('2024-02-19T00:00:00.000Z');
      expect(week.to).toBe('2024-02-26T00:00:00.000Z');
    });

    it('2024-W13, with the spring clock change, lasts 167 hours', () => {
      const week = report([], AFTER_WEEK, uk, '2024-W13');
      expect(week.from).toBe('2024-03-25T00:00:00.000Z');
      expect(week.to).toBe('2024-03-31T23:00:00.000Z');
      expect(Date.parse(week.to) - Date.parse(week.from)).toBe(167 * HOUR);
    });

    it('2024-W43, with the autumn clock change, lasts 169 hours', () => {
      const week = report([], AFTER_WEEK, uk, '2024-W43');
      expect(week.from).toBe('2024-10-20T23:00:00.000Z');
      expect(week.to).toBe('2024-10-28T00:00:00.000Z');
      expect(Date.parse(week.to) - Date.parse(week.from)).toBe(169 * HOUR);
    });

    it('a call presented at local Monday 00:00 BST belongs to the new week', () => {
      const mondayBst = Date.parse('2024-04-01T00:00:00+01:00');
      const events = [presented('new', mondayBst, '999'), presented('old', mondayBst - 1, '101')];
      expect(isoWeekOf(mondayBst, 'Europe/London')).toBe('2024-W14');
      expect(isoWeekOf(mondayBst - 1, 'Europe/London')).toBe('2024-W13');
      const asOf = mondayBst + DAY;
      const w14 = report(events, asOf, uk, '2024-W14').calls;
      const w13 = report(events, asOf, uk, '2024-W13').calls;
      expect([w14['999'].presented, w14['101'].presented]).toEqual([1, 0]);
      expect([w13['999'].presented, w13['101'].presented]).toEqual([0, 1]);
    });

    it('a weekly report classifies as of its as_of, not the end of the week', () => {
      const events = [presented('c1', T0), answered('c1', T0 + 20 * SECOND)];
      expect(report(events, T0 + 5 * SECOND).calls['999']).toMatchObject({ pending: 1 });
      expect(report(events, AFTER_WEEK).calls['999']).toMatchObject({ breached: 1 });
    });
  });
});

// ---- §7 and §8 --------------------------------------------------------------------------

describe('§7 weekly report and §8 live snapshot: canonical JSON', () => {
  const channel = {
    presented: 0,
    answered: 0,
    abandoned: 0,
    unresolved: 0,
    within: 0,
    breached: 0,
    pending: 0,
    excluded: 0,
    compliance: null,
    answer_ms: NO_DISTRIBUTION,
    bands: { le_10s: 0, s10_to_60: 0, gt_60s: 0 },
  };
  const attendance = {
    incidents: 0,
    attended: 0,
    within: 0,
    breached: 0,
    pending: 0,
    compliance: null,
    attend_ms: NO_DISTRIBUTION,
  };
  const victimUpdates = { met: 0, breached: 0, pending: 0, compliance: null };

  it('an empty week has every key of the canonical JSON, in its order', () => {
    const asOf = Date.parse('2026-11-25T17:00:00.000Z');
    const week = report([], asOf);
    const canonical = {
      force: 'northants',
      week: '2024-W08',
      policy: 'uk-default-v1',
      from: '2024-02-19T00:00:00.000Z',
      to: '2024-02-26T00:00:00.000Z',
      as_of: '2026-11-25T17:00:00.000Z',
      calls: { '999': channel, '101': channel },
      attendance: { 'G1-urban': attendance, 'G1-rural': attendance, G2: attendance },
      victim_updates: victimUpdates,
      data_quality: { negative_durations: 0, orphan_events: 0 },
    };
    expect(week).toEqual(canonical);
    expect(JSON.stringify(week)).toBe(JSON.stringify(canonical));
  });

  it('timestamps are UTC ISO-8601 with milliseconds', () => {
    const week = report([], Date.parse('2024-02-21T12:34:56.789+01:00'));
    expect(week.as_of).toBe('2024-02-21T11:34:56.789Z');
  });

  it('attendance keys follow the policy targets: G<grade>-<area>, or G<grade> for every area', () => {
    const policy = forcePolicy({
      id: 'nth-v1',
      effective_from: null,
      attendance: {
        targets: [
          { grade: 1, within_s: 600 },
          { grade: 2, area: 'rural', within_s: 3600 },
          { grade: 2, area: 'urban', within_s: 2400 },
          { grade: 3, within_s: 86_400 },
        ],
      },
    });
    const week = report([], AFTER_WEEK, policy);
    expect(Object.keys(week.attendance)).toEqual(['G1', 'G2-rural', 'G2-urban', 'G3']);
    expect(week.policy).toBe('nth-v1');
  });

  it('the live snapshot has the four windows, each with the weekly shapes and nothing else', () => {
    const asOf = Date.parse('2024-03-29T18:30:00.000Z');
    const snapshot = rollingSnapshot([], { force: FORCE, asOf, policy: uk });
    const window = {
      calls: { '999': channel, '101': channel },
      attendance: { 'G1-urban': attendance, 'G1-rural': attendance, G2: attendance },
      victim_updates: victimUpdates,
    };
    const canonical = {
      force: 'northants',
      policy: 'uk-default-v1',
      as_of: '2024-03-29T18:30:00.000Z',
      windows: { '15m': window, '1h': window, '24h': window, '7d': window },
    };
    expect(snapshot).toEqual(canonical);
    expect(JSON.stringify(snapshot)).toBe(JSON.stringify(canonical));
  });

  it('the weekly report counts only the requested force', () => {
    const other = parseEvent(
      JSON.stringify({
        v: 1,
        id: 'x-1',
        type: 'call.presented',
        force: 'leics',
        at: new Date(T0).toISOString(),
        call: 'c1',
        channel: '999',
      }),
    );
    if (!other.ok) throw new Error(other.detail);
    expect(report([other.event]).calls['999'].presented).toBe(0);
  });
});
