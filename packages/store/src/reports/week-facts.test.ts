import { isoWeekWindow, Policy, weeklyReport } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawClient, openTestStore, type TestStore } from '../testing.ts';
import { contractEvent, storeInArrivalOrder } from './test-support.ts';
import { weekFiguresFromFacts } from './window-figures.ts';

/**
 * The week-facts cache (migration 0007): a refreshed week's report comes from its stored
 * facts only while they hold, and is the evaluator's either way.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const WEEK = '2024-W08';
/** Tuesday of ISO week 2024-W08 (London is on UTC in February). */
const T0 = Date.parse('2024-02-20T10:00:00.000Z');
const AFTER = Date.parse('2024-06-01T00:00:00.000Z');
const uk = Policy.ukDefault();
const span = isoWeekWindow(WEEK, uk.timezone);

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

let forces = 0;
function newForce() {
  const force = `wf-${++forces}`;
  let serial = 0;
  const event = (type: CallmonEvent['type'], at: number, fields: Record<string, unknown>) =>
    contractEvent(force, `ev-${String(++serial).padStart(4, '0')}`, type, at, fields);
  return { force, event };
}

/** A week of one force: calls answered in and out of target, incidents attended or not. */
function weekOf(f: ReturnType<typeof newForce>): CallmonEvent[] {
  const events: CallmonEvent[] = [];
  for (let n = 0; n < 6; n++) {
    const call = `c-${n}`;
    events.push(
      f.event('call.presented', T0 + n * MINUTE, { call, channel: n % 2 ? '101' : '999' }),
    );
    events.push(f.event('call.answered', T0 + n * MINUTE + (n + 1) * 4_000, { call }));
    events.push(
      f.event('incident.opened', T0 + n * MINUTE + 30_000, {
        incident: `i-${n}`,
        grade: 1 + (n % 3),
        area: 'urban',
        call,
      }),
    );
    if (n % 2 === 0) {
      events.push(
        f.event('unit.arrived', T0 + n * MINUTE + (n + 5) * 60_000, {
          incident: `i-${n}`,
          unit: 'NR1',
        }),
      );
    }
  }
  // An orphan answer in the week, and a call of the week before.
  events.push(f.event('call.answered', T0 + 2 * DAY, { call: 'c-orphan' }));
  events.push(f.event('call.presented', T0 - 7 * DAY, { call: 'c-earlier', channel: '999' }));
  return events;
}

const fromFacts = (force: string, asOf: number) =>
  weekFiguresFromFacts(raw, { force, asOf, policy: uk, span });
const reportOf = async (force: string, events: CallmonEvent[], asOf = AFTER) => {
  const query = { force, week: WEEK, asOf, policy: uk };
  const stored = await test.store.weeklyReport(query);
  expect(stored).toEqual(weeklyReport(events, query));
  expect(await test.store.weeklyReport({ ...query, storedFacts: false })).toEqual(stored);
  return stored;
};

describe('week facts', () => {
  it('a week never refreshed is reported from its events', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    expect(await fromFacts(f.force, AFTER)).toBeUndefined();
    await reportOf(f.force, events);
  });

  it('after a refresh the report comes from the facts, equal to the events’ figures', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    const refresh = await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    // Six calls, six incidents and the orphan; not the call of the week before.
    expect(refresh).toEqual({ stored: true, unchanged: false, items: 13 });
    const figures = await fromFacts(f.force, AFTER);
    expect(figures).toBeDefined();
    const report = await reportOf(f.force, events);
    expect(figures!.calls['999']).toEqual(report.calls['999']);
    expect(report.data_quality.orphan_events).toBe(1);
  });

  it('a later event of one of the week’s items, dated weeks after it, makes the facts stale until refreshed', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    const late = f.event('unit.arrived', T0 + 20 * DAY, { incident: 'i-1', unit: 'NR9' });
    await storeInArrivalOrder(test.store, [late], Date.parse('2030-02-01T00:00:00Z'));
    expect(await fromFacts(f.force, AFTER)).toBeUndefined();
    const stale = await reportOf(f.force, [...events, late]);
    const query = { force: f.force, week: WEEK, asOf: AFTER, policy: uk };
    expect(stale.attendance).not.toEqual(weeklyReport(events, query).attendance);

    const again = await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    expect(again).toEqual({ stored: true, unchanged: false, items: 12 + 1 });
    expect(await fromFacts(f.force, AFTER)).toBeDefined();
    expect(await reportOf(f.force, [...events, late])).toEqual(stale);
  });

  it('a new call presented in the week, with an id beyond the refreshed bounds, makes the facts stale', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    const added = f.event('call.presented', T0 + DAY, { call: 'z-new', channel: '999' });
    await storeInArrivalOrder(test.store, [added], Date.parse('2030-02-01T00:00:00Z'));
    expect(await fromFacts(f.force, AFTER)).toBeUndefined();
    const report = await reportOf(f.force, [...events, added]);
    expect(report.calls['999'].presented).toBe(4);
  });

  it('a refresh of facts that still hold reads nothing again', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    const refresh = () => test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    expect(await refresh()).toEqual({ stored: true, unchanged: false, items: 13 });
    expect(await refresh()).toEqual({ stored: true, unchanged: true, items: 13 });
    // A write elsewhere in the force: the week's own counts show the facts still hold.
    const elsewhere = f.event('call.presented', T0 + 30 * DAY, { call: 'd-later', channel: '999' });
    await storeInArrivalOrder(test.store, [elsewhere], Date.parse('2030-04-01T00:00:00Z'));
    expect(await refresh()).toEqual({ stored: true, unchanged: true, items: 13 });
    const [refreshes] = await (
      await raw.query({
        query: `SELECT count() AS n FROM week_fact_refreshes WHERE force = {force:String}`,
        format: 'JSONEachRow',
        query_params: { force: f.force },
      })
    ).json<{ n: number | string }>();
    expect(Number(refreshes!.n)).toBe(1);
  });

  it('facts that a later, unrecorded refresh superseded are not read short, and the next refresh rewrites them', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    // What a refresh cut short after writing its rows leaves: newer rows for some items
    // and no record of them; a merge then keeps only those.
    await raw.command({
      query: `INSERT INTO week_facts
              SELECT * REPLACE (refresh + 1 AS refresh) FROM week_facts
              WHERE force = {force:String} AND is_call`,
      query_params: { force: f.force },
    });
    await raw.command({ query: 'OPTIMIZE TABLE week_facts FINAL' });
    expect(await fromFacts(f.force, AFTER)).toBeUndefined();
    await reportOf(f.force, events);
    const again = await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    expect(again).toEqual({ stored: true, unchanged: false, items: 13 });
    expect(await fromFacts(f.force, AFTER)).toBeDefined();
    await reportOf(f.force, events);
  });

  it('facts answer only as of a T at or after every event they were read from', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    const last = Math.max(...events.map((event) => event.at));
    expect(await fromFacts(f.force, last)).toBeDefined();
    expect(await fromFacts(f.force, last - 1)).toBeUndefined();
    await reportOf(f.force, events, last - 1);
    await reportOf(f.force, events, last);
  });

  it('events of other forces and weeks leave a week’s facts standing', async () => {
    const f = newForce();
    const events = weekOf(f);
    await storeInArrivalOrder(test.store, events);
    await test.store.refreshWeekFacts({ force: f.force, week: WEEK, policy: uk });
    const other = newForce();
    await storeInArrivalOrder(test.store, weekOf(other));
    // Its id sorts after every call id of the week ('c-…'), so it is outside the bounds read.
    const nextWeek = f.event('call.presented', T0 + 10 * DAY, { call: 'd-next', channel: '999' });
    await storeInArrivalOrder(test.store, [nextWeek], Date.parse('2030-03-01T00:00:00Z'));
    expect(await fromFacts(f.force, AFTER)).toBeDefined();
    await reportOf(f.force, [...events, nextWeek]);
  });
});
