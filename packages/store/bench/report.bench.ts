/**
 * Weekly report and rolling snapshot over ≥ 10 M stored events of one force (a year of a
 * large force), against a baseline measured in the same run: counting the force's events
 * of the same week (`SELECT count() … WHERE force = … AND at in week`), the cheapest
 * query that touches the week at all.
 *
 * The events are generated inside chDB (`INSERT … SELECT … FROM numbers(…)`): 999 and 101
 * calls (presented, then answered 90 %, abandoned 9.5 %, unresolved 0.5 %, closed; 0.1 %
 * answered before they were presented), a third of them opening an incident (grades
 * 1–4, urban/rural, regraded 10 %, dispatched, arrived 98 %, victim updated 30 %,
 * closed), and 0.5 % of events stored twice (a later arrival of the same content). Call
 * and incident ids are zero-padded sequence numbers, as control rooms number them.
 *
 *   npx tsx packages/store/bench/report.bench.ts [calls=2250000] [folder]
 *
 * With a folder that already holds the data (from an earlier run), the load is skipped.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isoWeekWindow, Policy, weeklyReport } from '@callmon/compliance';
import { openStore } from '../src/store.ts';
import { openRawClient } from '../src/testing.ts';

const calls = Number(process.argv[2] ?? 2_250_000);
const keep = process.argv[3];
const folder = keep ?? (await mkdtemp(join(tmpdir(), 'callmon-report-bench-')));
const dataDir = join(folder, 'chdb');
const loaded = existsSync(join(dataDir, 'loaded'));
const force = 'bench';
const start = Date.UTC(2024, 0, 1);
const yearMs = 366 * 86_400_000;

const store = await openStore({ dataDir });
const raw = await openRawClient({ dataDir });
const rows = async <T>(query: string, query_params?: Record<string, unknown>) =>
  (await raw.query({ query, format: 'JSONEachRow', query_params })).json<T>();

/** One row per event: `e` is (id suffix, type, at, channel, handler, grade, area, unit, slot, present). */
const LOAD = `
INSERT INTO events (force, id, type, at_ms, v, source, call, channel, queue, handler, incident, grade,
                    area, district, unit, fingerprint, raw, arrived_ms, source_kind, source_name,
                    source_partition, source_offset, batch)
SETTINGS max_partitions_per_insert_block = 0
SELECT '${force}', concat(c, '-', e.1), e.2, e.3, 1, if(startsWith(e.2, 'call.'), 'iccs', 'cad'),
       if(startsWith(e.2, 'call.') OR e.2 = 'incident.opened', c, NULL), e.4,
       if(e.2 = 'call.presented', 'general', NULL), e.5, if(startsWith(e.2, 'call.'), NULL, i), e.6, e.7,
       if(e.2 = 'incident.opened', 'north', NULL), e.8,
       hex(cityHash64(c, e.1)),
       concat('{"v":1,"id":"', c, '-', e.1, '","type":"', e.2, '","force":"${force}","at":', toString(e.3), '}'),
       e.3 + 1000 + toInt64(cityHash64(n, 20) % 5000), 'simulator', 'report-bench', 0, n * 16 + e.9, 'report-bench'
FROM
(
    SELECT number AS n,
        concat('${force}-c', leftPad(toString(n), 8, '0')) AS c,
        concat('${force}-i', leftPad(toString(n), 8, '0')) AS i,
        cityHash64(n, 1) AS h1, cityHash64(n, 2) AS h2, cityHash64(n, 3) AS h3, cityHash64(n, 4) AS h4,
        cityHash64(n, 5) AS h5, cityHash64(n, 6) AS h6, cityHash64(n, 7) AS h7, cityHash64(n, 8) AS h8,
        cityHash64(n, 9) AS h9, cityHash64(n, 10) AS h10, cityHash64(n, 11) AS h11, cityHash64(n, 12) AS h12,
        cityHash64(n, 13) AS h13, cityHash64(n, 14) AS h14, cityHash64(n, 15) AS h15, cityHash64(n, 16) AS h16,
        cityHash64(n, 17) AS h17,
        toInt64(${start}) + intDiv(toInt64(n) * ${yearMs}, ${calls}) + toInt64(h1 % 60000) AS t0,
        if(h2 % 100 < 30, '999', '101') AS channel,
        if(h3 % 1000 = 0, -toInt64(h3 % 2000), toInt64(h3 % if(channel = '999', 20000, 600000))) AS answer_delay,
        h4 % 1000 AS fate,
        t0 + answer_delay AS answered_at,
        t0 + toInt64(h5 % 120000) AS abandoned_at,
        if(fate < 900, answered_at, if(fate < 995, abandoned_at, t0 + 600000)) + toInt64(h6 % 300000) AS closed_at,
        h7 % 100 < 35 AS has_incident,
        closed_at - toInt64(h8 % 60000) AS opened_at,
        [1, 2, 2, 3, 4][h9 % 5 + 1] AS grade,
        if(h10 % 100 < 70, 'urban', 'rural') AS area,
        opened_at + toInt64(h12 % 600000) AS regraded_at,
        opened_at + toInt64(h14 % 300000) AS dispatched_at,
        dispatched_at + toInt64(h15 % 1800000) AS arrived_at,
        concat('U', toString(h13 % 200)) AS unit,
        arrayFilter(x -> x.10, [
          tuple('p', 'call.presented', t0, channel, NULL, NULL, NULL, NULL, 0, true),
          tuple('a', 'call.answered', answered_at, NULL, concat('h', toString(h5 % 60)), NULL, NULL, NULL, 1, fate < 900),
          tuple('x', 'call.abandoned', abandoned_at, NULL, NULL, NULL, NULL, NULL, 2, fate >= 900 AND fate < 995),
          tuple('c', 'call.closed', closed_at, NULL, NULL, NULL, NULL, NULL, 3, true),
          tuple('o', 'incident.opened', opened_at, NULL, NULL, grade, area, NULL, 4, has_incident),
          tuple('r', 'incident.regraded', regraded_at, NULL, NULL, [1, 2, 3][h13 % 3 + 1], NULL, NULL, 5,
                has_incident AND h11 % 100 < 10),
          tuple('d', 'unit.dispatched', dispatched_at, NULL, NULL, NULL, NULL, unit, 6, has_incident),
          tuple('v', 'victim.updated', arrived_at - 60000, NULL, NULL, NULL, NULL, NULL, 7,
                has_incident AND h16 % 100 < 30),
          tuple('y', 'unit.arrived', arrived_at, NULL, NULL, NULL, NULL, unit, 8, has_incident AND h17 % 100 < 98),
          tuple('z', 'incident.closed', arrived_at + toInt64(h16 % 3600000), NULL, NULL, NULL, NULL, NULL, 9, has_incident)
        ]) AS events
    FROM numbers(${calls})
)
ARRAY JOIN events AS e`;

/** 0.5 % of the events arrive a second time, an hour later, with the same content. */
const DUPLICATES = `
INSERT INTO events (force, id, type, at, v, source, call, channel, queue, handler, incident, grade, area,
                    district, unit, fingerprint, raw, arrived_at, source_kind, source_name, source_partition,
                    source_offset, batch)
SETTINGS max_partitions_per_insert_block = 0
SELECT force, id, type, at, v, source, call, channel, queue, handler, incident, grade, area, district, unit,
       fingerprint, raw, arrived_at + INTERVAL 1 HOUR, source_kind, 'report-bench-replay', source_partition,
       source_offset, 'report-bench-replay'
FROM events WHERE force = '${force}' AND cityHash64(id) % 200 = 0`;

const ms = (begin: number) => performance.now() - begin;
const fmt = (value: number) => value.toFixed(0).padStart(6);

if (!loaded) {
  const begin = performance.now();
  await raw.command({ query: LOAD });
  await raw.command({ query: DUPLICATES });
  await raw.command({ query: 'OPTIMIZE TABLE events FINAL' });
  await writeFile(join(dataDir, 'loaded'), `${calls}\n`);
  console.log(`loaded in ${(ms(begin) / 1000).toFixed(1)} s`);
}
const [size] = await rows<{ n: string; parts: string; disk: string }>(
  `SELECT sum(rows) AS n, count() AS parts, formatReadableSize(sum(bytes_on_disk)) AS disk
   FROM system.parts WHERE active AND table = 'events'`,
);
console.log(
  `events: ${Number(size!.n).toLocaleString('en-GB')} rows (${calls.toLocaleString('en-GB')} calls), ${size!.parts} parts, ${size!.disk}`,
);

const policy = Policy.ukDefault();
const asOf = Date.UTC(2025, 1, 1);
const weeks = [
  '2024-W03',
  '2024-W09',
  '2024-W14',
  '2024-W20',
  '2024-W27',
  '2024-W33',
  '2024-W40',
  '2024-W46',
  '2024-W51',
];
const repeats = 5;

function summary(label: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
  console.log(
    `${label.padEnd(44)} median ${fmt(at(50))} ms   p95 ${fmt(at(95))} ms   min ${fmt(sorted[0]!)} ms   (n = ${sorted.length})`,
  );
}

// The week facts of the measured weeks (migration 0007; README, Reports), each refreshed
// once, timed: what a scheduled refresh costs.
await raw.command({ query: 'TRUNCATE TABLE week_facts' });
await raw.command({ query: 'TRUNCATE TABLE week_fact_refreshes' });
const refreshes: number[] = [];
for (const week of weeks) {
  const begin = performance.now();
  const refresh = await store.refreshWeekFacts({ force, week, policy });
  refreshes.push(ms(begin));
  if (!refresh.stored) throw new Error(`${week}: the refresh was not stored`);
}

// Each round, every week: the baseline, the report from the events (`storedFacts: false`)
// and from the stored facts, in alternating order; the two reports must be equal.
const baseline: number[] = [];
const fromEvents: number[] = [];
const fromFacts: number[] = [];
const snapshots: number[] = [];
for (let round = 0; round < repeats; round++) {
  for (const [index, week] of weeks.entries()) {
    const { from, to } = isoWeekWindow(week, policy.timezone);
    let begin = performance.now();
    await rows(
      `SELECT count() FROM events WHERE force = {force:String}
         AND at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND at < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      { force, from, to },
    );
    baseline.push(ms(begin));
    const reports = [];
    for (const storedFacts of (round + index) % 2 === 0 ? [false, true] : [true, false]) {
      begin = performance.now();
      const report = await store.weeklyReport({ force, week, asOf, policy, storedFacts });
      (storedFacts ? fromFacts : fromEvents).push(ms(begin));
      reports.push(report);
    }
    if (!isDeepStrictEqual(reports[0], reports[1])) {
      throw new Error(`${week}: the report from stored facts differs from the one from events`);
    }
    begin = performance.now();
    await store.rollingSnapshot({ force, asOf: to - 1, policy });
    snapshots.push(ms(begin));
  }
}

// Then one event stored elsewhere in the force (dated 2025, ids beyond every week's), as
// a live feed would: the facts still hold, but each report now checks its week's counts.
const extra = `bench-extra-${Date.now()}`;
await raw.command({
  query: `INSERT INTO events (force, id, type, at, v, call, channel, fingerprint, raw, arrived_at,
            source_kind, source_name, source_partition, source_offset, batch)
          VALUES ({force:String}, {extra:String}, 'call.presented', '2025-01-20 00:00:00.000', 1,
            {extra:String}, '999', '', '{}', now64(3), 'file', {extra:String}, 0, 1, {extra:String})`,
  query_params: { force, extra },
});
const checked: number[] = [];
for (let round = 0; round < repeats; round++) {
  for (const week of weeks) {
    const begin = performance.now();
    const report = await store.weeklyReport({ force, week, asOf, policy });
    checked.push(ms(begin));
    if (round === 0) {
      const fromEventsNow = await store.weeklyReport({
        force,
        week,
        asOf,
        policy,
        storedFacts: false,
      });
      if (!isDeepStrictEqual(report, fromEventsNow))
        throw new Error(`${week}: reports differ after the write`);
    }
  }
}

console.log(`${weeks.length} weeks × ${repeats} rounds, as of ${new Date(asOf).toISOString()}`);
const first = (times: number[]) => times.slice(0, weeks.length);
summary('baseline: count() of the week', baseline);
summary('weeklyReport from events, first of each week', first(fromEvents));
summary('weeklyReport from events, all rounds', fromEvents);
summary('refreshWeekFacts, once per week', refreshes);
summary('weeklyReport from facts, first of each week', first(fromFacts));
summary('weeklyReport from facts, all rounds', fromFacts);
summary('… after a write elsewhere in the force', checked);
summary('store.rollingSnapshot (4 windows, T = week end)', snapshots);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  `reports equal by both paths in every round; from facts / from events (medians): ${(median(fromFacts) / median(fromEvents)).toFixed(2)}`,
);

// Spot check at scale: the generated calls and incidents last under 3 hours, so the
// evaluator over the events of the week and two days either side sees every event of
// the week's items and must give the same report.
const week = '2024-W20';
const { from, to } = isoWeekWindow(week, policy.timezone);
const events = await store.readEvents({
  force,
  from: from - 2 * 86_400_000,
  to: to + 2 * 86_400_000,
});
const expected = weeklyReport(events, { force, week, asOf, policy });
const actual = await store.weeklyReport({ force, week, asOf, policy });
const same =
  isDeepStrictEqual(actual, expected) &&
  isDeepStrictEqual(
    await store.weeklyReport({ force, week, asOf, policy, storedFacts: false }),
    expected,
  );
console.log(
  `${week}: store report ${same ? 'equals' : 'DIFFERS FROM'} the evaluator over ${events.length.toLocaleString('en-GB')} events ` +
    `(999 presented ${actual.calls['999'].presented}, compliance ${actual.calls['999'].compliance?.toFixed(3)})`,
);

await raw.close();
await store.close();
if (keep === undefined) await rm(folder, { recursive: true, force: true });
if (!same) process.exitCode = 1;
