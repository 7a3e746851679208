import { Policy, rollingSnapshot, weeklyReport } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawClient, openTestStore, type TestStore } from '../testing.ts';
import { firstCopiesWithinIdBounds, ITEM_ID_BOUNDS_SQL } from './figures.sql.ts';
import { contractEvent, storeInArrivalOrder } from './test-support.ts';

/**
 * The report SQL on hand-made events: each case states a rule of docs/metrics.md, checks
 * the figure worked by hand, and checks that the store's report equals the TypeScript
 * evaluator's over the same events in the same arrival order.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = '2024-W08';
/** Tuesday of ISO week 2024-W08; February is GMT, so London local time is UTC. */
const T0 = Date.parse('2024-02-20T10:00:00.000Z');
const AFTER_WEEK = Date.parse('2024-03-01T00:00:00.000Z');
const uk = Policy.ukDefault();

let test: TestStore;
beforeAll(async () => {
  test = await openTestStore();
});
afterAll(async () => {
  await test?.cleanup();
});

let forces = 0;
/** A force of its own for each case, and event builders for it. */
function newForce() {
  const force = `rep-${++forces}`;
  let serial = 0;
  const event = (type: CallmonEvent['type'], at: number, fields: Record<string, unknown>) =>
    contractEvent(force, `ev-${String(++serial).padStart(4, '0')}`, type, at, fields);
  return {
    force,
    event,
    presented: (call: string, at: number, channel = '999') =>
      event('call.presented', at, { call, channel }),
    answered: (call: string, at: number) => event('call.answered', at, { call }),
    abandoned: (call: string, at: number) => event('call.abandoned', at, { call }),
    opened: (incident: string, at: number, grade: number, area = 'urban') =>
      event('incident.opened', at, { incident, grade, area }),
    regraded: (incident: string, at: number, grade: number) =>
      event('incident.regraded', at, { incident, grade }),
    arrived: (incident: string, at: number) =>
      event('unit.arrived', at, { incident, unit: 'NR12' }),
    updated: (incident: string, at: number) => event('victim.updated', at, { incident }),
  };
}

/** Store the events, then the store's weekly report, checked equal to the evaluator's. */
async function report(
  force: string,
  events: CallmonEvent[],
  options: { asOf?: number; policy?: Policy; week?: string } = {},
) {
  await storeInArrivalOrder(test.store, events);
  const query = {
    force,
    week: options.week ?? WEEK,
    asOf: options.asOf ?? AFTER_WEEK,
    policy: options.policy ?? uk,
  };
  const stored = await test.store.weeklyReport(query);
  expect(stored).toEqual(weeklyReport(events, query));
  return stored;
}

describe('weekly report from the store (metrics.md §7)', () => {
  it('a 999 call answered at exactly 10 000 ms is within target, one at 10 001 ms is breached', async () => {
    const f = newForce();
    const { calls } = await report(f.force, [
      f.presented('c1', T0),
      f.answered('c1', T0 + 10_000),
      f.presented('c2', T0 + HOUR),
      f.answered('c2', T0 + HOUR + 10_001),
    ]);
    expect(calls['999']).toMatchObject({ presented: 2, answered: 2, within: 1, breached: 1 });
    expect(calls['999'].compliance).toBe(0.5);
    expect(calls['999'].bands).toEqual({ le_10s: 1, s10_to_60: 1, gt_60s: 0 });
    expect(calls['999'].answer_ms).toEqual({
      p50: 10_000,
      p90: 10_001,
      p95: 10_001,
      max: 10_001,
      mean: 10_000.5,
    });
  });

  it('percentiles take the nearest rank ceil(p × n) of the sorted answer times', async () => {
    const f = newForce();
    const times = [4000, 1000, 3000, 2000];
    const events = times.flatMap((ms, index) => [
      f.presented(`c${index}`, T0 + index * MINUTE, '101'),
      f.answered(`c${index}`, T0 + index * MINUTE + ms),
    ]);
    const { calls } = await report(f.force, events);
    expect(calls['101'].answer_ms).toEqual({
      p50: 2000,
      p90: 4000,
      p95: 4000,
      max: 4000,
      mean: 2500,
    });
  });

  it('two call.presented at the same instant: the channel comes from the smallest event id', async () => {
    const f = newForce();
    const events = [
      contractEvent(f.force, 'b', 'call.presented', T0, { call: 'c1', channel: '999' }),
      contractEvent(f.force, 'a', 'call.presented', T0, { call: 'c1', channel: '101' }),
    ];
    const { calls } = await report(f.force, events);
    expect(calls['101'].presented).toBe(1);
    expect(calls['999'].presented).toBe(0);
  });

  it('an answer after the abandon does not count; under breach_if_late an abandon after S is a breach', async () => {
    const f = newForce();
    const policy = Policy.fromForceFile({
      force: f.force,
      versions: [
        { id: 'late', effective_from: null, calls: { '999': { abandoned: 'breach_if_late' } } },
      ],
    });
    const { calls } = await report(
      f.force,
      [
        f.presented('early', T0),
        f.abandoned('early', T0 + 10_000),
        f.presented('late', T0 + HOUR),
        f.abandoned('late', T0 + HOUR + 10_001),
        f.answered('late', T0 + HOUR + 20_000),
      ],
      { policy },
    );
    expect(calls['999']).toMatchObject({
      abandoned: 2,
      answered: 0,
      excluded: 1,
      breached: 1,
      compliance: 0,
    });
  });

  it('a regrade at the opening instant wins, and a regrade after arrival changes nothing', async () => {
    const f = newForce();
    const { attendance } = await report(f.force, [
      f.opened('i1', T0, 3),
      f.regraded('i1', T0, 1),
      f.arrived('i1', T0 + 10 * MINUTE),
      f.regraded('i1', T0 + 20 * MINUTE, 3),
    ]);
    expect(attendance['G1-urban']).toMatchObject({ incidents: 1, attended: 1, within: 1 });
  });

  it('as of T, later events are unseen, and a conflicting later copy stays out even when the first copy is dated after T', async () => {
    const f = newForce();
    const first = f.answered('c1', T0 + 20 * SECOND);
    const conflict = contractEvent(f.force, first.id, 'call.answered', T0 + 5 * SECOND, {
      call: 'c1',
    });
    const { calls } = await report(f.force, [f.presented('c1', T0), first, conflict], {
      asOf: T0 + 10 * SECOND,
    });
    expect(calls['999']).toMatchObject({ presented: 1, unresolved: 1, pending: 1, answered: 0 });
  });

  it('orphans and negative durations are counted in data quality', async () => {
    const f = newForce();
    const { data_quality, calls, attendance } = await report(f.force, [
      // An answer and an abandon with no presented event: two orphan events.
      f.answered('lost', T0),
      f.abandoned('lost', T0 + SECOND),
      // Presented only after T: its answer is an orphan as of T.
      f.answered('later', T0 + MINUTE),
      f.presented('later', Date.parse('2024-03-02T00:00:00Z')),
      // Answered 2 s before it was presented, and attended before it was opened (G3, no target).
      f.presented('skew', T0 + HOUR),
      f.answered('skew', T0 + HOUR - 2 * SECOND),
      f.opened('i3', T0, 3),
      f.arrived('i3', T0 - SECOND),
    ]);
    expect(data_quality).toEqual({ negative_durations: 2, orphan_events: 3 });
    expect(calls['999']).toMatchObject({ presented: 1, within: 1 });
    expect(calls['999'].answer_ms.max).toBe(0);
    expect(attendance['G1-urban']?.incidents).toBe(0);
  });

  it('each call is judged by the policy version in effect at its presented_at', async () => {
    const f = newForce();
    const switchAt = T0 + DAY;
    const policy = Policy.fromForceFile({
      force: f.force,
      versions: [
        { id: 'v1', effective_from: null },
        {
          id: 'v2',
          effective_from: new Date(switchAt).toISOString(),
          calls: { '999': { answer_within_s: 15 } },
          attendance: { targets: [{ grade: 1, within_s: 600 }] },
        },
      ],
    });
    const result = await report(
      f.force,
      [
        f.presented('before', switchAt - 1),
        f.answered('before', switchAt + 12_000),
        f.presented('after', switchAt),
        f.answered('after', switchAt + 12_000),
        f.opened('i-before', switchAt - 1, 1, 'rural'),
        f.arrived('i-before', switchAt + 15 * MINUTE),
        f.opened('i-after', switchAt, 1, 'rural'),
        f.arrived('i-after', switchAt + 15 * MINUTE),
      ],
      { policy },
    );
    expect(result.policy).toBe('v1,v2');
    expect(result.calls['999']).toMatchObject({ within: 1, breached: 1 });
    expect(result.attendance['G1-rural']).toMatchObject({ incidents: 1, within: 1 });
    expect(result.attendance.G1).toMatchObject({ incidents: 1, breached: 1 });
  });

  it('victim updates: met before the due time, breached after it, not owed when attended within the grace', async () => {
    const f = newForce();
    const { victim_updates } = await report(f.force, [
      f.opened('met', T0, 1),
      f.updated('met', T0 + 5 * MINUTE),
      f.opened('missed', T0 + HOUR, 1),
      f.updated('missed', T0 + HOUR + 15 * MINUTE + 15 * MINUTE + 1),
      f.opened('attended', T0 + 2 * HOUR, 1),
      f.arrived('attended', T0 + 2 * HOUR + 20 * MINUTE),
    ]);
    expect(victim_updates).toEqual({ met: 1, breached: 1, pending: 0, compliance: 0.5 });
  });

  it('events of a week’s calls dated far outside the week still count', async () => {
    const f = newForce();
    const { calls, data_quality } = await report(
      f.force,
      [
        f.presented('slow', T0, '101'),
        f.answered('slow', T0 + 12 * DAY),
        // Presented in the week, but also 30 days before it: not a call of this week.
        f.presented('old', T0 + MINUTE, '101'),
        f.presented('old', T0 - 30 * DAY, '101'),
        f.answered('early', T0 - 60 * DAY),
        f.presented('early', T0 + 2 * MINUTE, '101'),
      ],
      { asOf: Date.parse('2024-06-01T00:00:00Z') },
    );
    expect(calls['101']).toMatchObject({ presented: 2, answered: 2, breached: 1, within: 1 });
    expect(data_quality.negative_durations).toBe(1);
  });

  it('a week without events has every channel and attendance key, with zero counts and null figures', async () => {
    const f = newForce();
    const result = await report(f.force, []);
    expect(Object.keys(result.attendance)).toEqual(['G1-urban', 'G1-rural', 'G2']);
    expect(result.calls['999'].compliance).toBeNull();
    expect(result.attendance.G2?.attend_ms).toEqual({
      p50: null,
      p90: null,
      p95: null,
      max: null,
      mean: null,
    });
  });
});

describe('reading a window’s items by their id bounds', () => {
  it('items whose ids fall between the window’s own but that belong elsewhere do not count', async () => {
    const f = newForce();
    const NEXT_WEEK = T0 + 7 * DAY;
    const { calls, attendance, data_quality } = await report(f.force, [
      f.presented('c1', T0),
      f.answered('c1', T0 + 5 * SECOND),
      // Ids between c1 and c5, all of another week: read with the window's, then left out.
      f.presented('c2', NEXT_WEEK),
      f.answered('c2', NEXT_WEEK + 5 * SECOND),
      f.answered('c3', NEXT_WEEK), // an orphan of the next week
      f.abandoned('c4', T0 - 7 * DAY), // an orphan of the week before
      f.presented('c5', T0 + HOUR),
      f.opened('i1', T0, 1),
      f.opened('i2', NEXT_WEEK, 1),
      f.opened('i3', T0 + HOUR, 2),
    ]);
    expect(calls['999']).toMatchObject({ presented: 2, answered: 1, within: 1, breached: 1 });
    expect(attendance['G1-urban']).toMatchObject({ incidents: 1 });
    expect(attendance.G2).toMatchObject({ incidents: 1 });
    expect(data_quality.orphan_events).toBe(0);
  });

  it('the engine skips the granules outside the bounds (migration 0006’s indexes)', async () => {
    // A week of 300,000 events two seconds apart, ids in time order; every fifth opens an
    // incident (a row without a call, so every granule holds NULL calls and incidents).
    // Written by the engine itself: only the columns a read by id touches matter here.
    const force = 'id-bounds';
    const raw = await openRawClient(test.options);
    try {
      const serial = "leftPad(toString(n), 7, '0')";
      const incident = 'n % 5 = 4';
      await raw.command({
        query: `INSERT INTO events (force, id, type, at_ms, v, call, channel, incident, grade, area,
                  fingerprint, raw, arrived_ms, source_kind, source_name, source_partition, source_offset, batch)
                SELECT {force:String}, concat(if(${incident}, 'o', 'p'), ${serial}),
                  if(${incident}, 'incident.opened', 'call.presented'), {from:Int64} + n * 2000, 1,
                  if(${incident}, NULL, concat('c', ${serial})), if(${incident}, NULL, '101'),
                  if(${incident}, concat('i', ${serial}), NULL), if(${incident}, 2, NULL),
                  if(${incident}, 'urban', NULL), '', '', {from:Int64}, 'file', 'id-bounds', 0, n, 'id-bounds'
                FROM (SELECT number AS n FROM numbers(300000))`,
        query_params: { force, from: T0 },
      });
      // One day of the week.
      const readFrom = T0 + 2 * DAY;
      const readTo = T0 + 3 * DAY;
      const [bounds] = await (
        await raw.query({
          query: ITEM_ID_BOUNDS_SQL,
          format: 'JSONEachRow',
          query_params: { force, readFrom, readTo, asOf: AFTER_WEEK },
        })
      ).json<Record<string, string | number>>();
      const first = (2 * DAY) / 2000;
      const last = (3 * DAY) / 2000 - 1;
      const id = (prefix: string, n: number) => `${prefix}${String(n).padStart(7, '0')}`;
      const lastIncident = last - ((last - 4) % 5);
      const firstIncident = first + ((4 - (first % 5) + 5) % 5);
      expect(bounds).toMatchObject({
        call_low: id('c', first % 5 === 4 ? first + 1 : first),
        call_high: id('c', last % 5 === 4 ? last - 1 : last),
        incident_low: id('i', firstIncident),
        incident_high: id('i', lastIncident),
      });
      const read = `SELECT count() AS n FROM (${firstCopiesWithinIdBounds(
        { calls: true, incidents: true },
        'arrived_at',
      )})`;
      const params = {
        force,
        callLow: bounds!.call_low,
        callHigh: bounds!.call_high,
        incidentLow: bounds!.incident_low,
        incidentHigh: bounds!.incident_high,
      };
      const [counted] = await (
        await raw.query({ query: read, format: 'JSONEachRow', query_params: params })
      ).json<{ n: number | string }>();
      // The day's events exactly: the bounds and the condition miss none and add none.
      expect(Number(counted?.n)).toBe(last - first + 1);
      const plan = await (
        await raw.query({
          query: `EXPLAIN indexes = 1 ${read}`,
          format: 'TabSeparated',
          query_params: params,
        })
      ).text();
      // Per read (calls, incidents): the granules it reads of the force's.
      const reads = [
        ...plan.matchAll(/Parts: \d+ \| Granules: (\d+)[\s\S]*?Granules: \d+\/(\d+)/g),
      ];
      expect(reads).toHaveLength(2);
      for (const [, read, all] of reads) {
        expect(Number(all)).toBeGreaterThanOrEqual(30);
        // A day of the week's granules, plus one at each edge: not the whole week.
        expect(Number(read)).toBeLessThanOrEqual(8);
      }
    } finally {
      await raw.close();
    }
  });
});

describe('rolling snapshot from the store (metrics.md §8)', () => {
  it('equals the evaluator’s snapshot, window by window, at T', async () => {
    const f = newForce();
    const asOf = T0 + 3 * DAY;
    const events = [
      f.presented('in-15m', asOf - 5 * MINUTE),
      f.presented('in-1h', asOf - 30 * MINUTE, '101'),
      f.answered('in-1h', asOf - 29 * MINUTE),
      f.presented('in-24h', asOf - 20 * HOUR),
      f.answered('in-24h', asOf - 20 * HOUR + 9 * SECOND),
      f.presented('in-7d', asOf - 6 * DAY),
      f.presented('edge', asOf - 7 * DAY),
      f.opened('i1', asOf - 2 * HOUR, 2, 'rural'),
      f.arrived('i1', asOf - HOUR),
      f.answered('future', asOf + 1),
    ];
    await storeInArrivalOrder(test.store, events);
    const query = { force: f.force, asOf, policy: uk };
    const snapshot = await test.store.rollingSnapshot(query);
    expect(snapshot).toEqual(rollingSnapshot(events, query));
    expect(snapshot.windows['15m'].calls['999']).toMatchObject({ presented: 1, breached: 1 });
    expect(snapshot.windows['7d'].calls['999']).toMatchObject({
      presented: 3,
      breached: 2,
      within: 1,
    });
    expect(snapshot.windows['24h'].attendance.G2).toMatchObject({ incidents: 1, within: 1 });
  });
});
