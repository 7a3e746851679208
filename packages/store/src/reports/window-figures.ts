import {
  type AttendanceFigures,
  answerWithinMs,
  attendanceTarget,
  type ChannelFigures,
  type EvaluatedWindow,
  type Policy,
  ratio,
  type Span,
} from '@callmon/compliance';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  ITEM_ID_BOUNDS_SQL,
  WEEK_FACTS_FIGURES_SQL,
  WEEK_FACTS_STATE_SQL,
  WITHOUT_JIT,
  weekFactsRefreshSql,
  windowFiguresSql,
} from './figures.sql.ts';

/** Over HTTP, ClickHouse quotes 64-bit integers in JSON; chDB does not. */
type Int64 = number | string;

/** The row of {@link ITEM_ID_BOUNDS_SQL}. */
interface ItemIdBoundsRow {
  calls: Int64;
  call_low: string;
  call_high: string;
  incidents: Int64;
  incident_low: string;
  incident_high: string;
}

/** One row of {@link windowFiguresSql}. */
interface FiguresRow {
  span: number;
  kind: 'call' | 'incident' | 'orphans';
  key: string;
  items: Int64;
  answered: Int64;
  abandoned: Int64;
  unresolved: Int64;
  attended: Int64;
  within: Int64;
  breached: Int64;
  pending: Int64;
  excluded: Int64;
  compliance: number | null;
  p50: Int64 | null;
  p90: Int64 | null;
  p95: Int64 | null;
  max: Int64 | null;
  mean: number | null;
  le_10s: Int64;
  s10_to_60: Int64;
  gt_60s: Int64;
  victim_met: Int64;
  victim_breached: Int64;
  victim_pending: Int64;
  negative_durations: Int64;
  orphan_events: Int64;
}

const GRADES = [1, 2, 3, 4] as const;
const AREAS = ['urban', 'rural'] as const;

/**
 * The policy as query parameters (figures.sql.ts): per-version arrays, 1-based by version,
 * and each version's attendance targets as a table over (grade, area), filled by the
 * evaluator's own `attendanceTarget`, so the choice of target has one definition.
 */
function policyParams(policy: Policy): Record<string, unknown> {
  const versions = policy.versions;
  const cells = versions.flatMap((version) =>
    GRADES.flatMap((grade) => AREAS.map((area) => attendanceTarget(version, grade, area))),
  );
  return {
    laterVersionsFrom: versions.slice(1).map((version) => version.effectiveFromMs),
    within999: versions.map((version) => answerWithinMs(version, '999')),
    within101: versions.map((version) => answerWithinMs(version, '101')),
    abandoned999: versions.map((version) => version.calls['999'].abandoned),
    abandoned101: versions.map((version) => version.calls['101'].abandoned),
    graceMs: versions.map((version) => version.victim_update.grace_s * 1000),
    targetKey: cells.map((target) => target?.key ?? ''),
    targetWithinMs: cells.map((target) => target?.withinMs ?? 0),
  };
}

const count = (value: Int64 | undefined): number => Number(value ?? 0);
const optional = (value: Int64 | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

function channelFigures(row: FiguresRow | undefined): ChannelFigures {
  return {
    presented: count(row?.items),
    answered: count(row?.answered),
    abandoned: count(row?.abandoned),
    unresolved: count(row?.unresolved),
    within: count(row?.within),
    breached: count(row?.breached),
    pending: count(row?.pending),
    excluded: count(row?.excluded),
    compliance: row?.compliance ?? null,
    answer_ms: {
      p50: optional(row?.p50),
      p90: optional(row?.p90),
      p95: optional(row?.p95),
      max: optional(row?.max),
      mean: row?.mean ?? null,
    },
    bands: {
      le_10s: count(row?.le_10s),
      s10_to_60: count(row?.s10_to_60),
      gt_60s: count(row?.gt_60s),
    },
  };
}

function attendanceFigures(row: FiguresRow | undefined): AttendanceFigures {
  return {
    incidents: count(row?.items),
    attended: count(row?.attended),
    within: count(row?.within),
    breached: count(row?.breached),
    pending: count(row?.pending),
    compliance: row?.compliance ?? null,
    attend_ms: {
      p50: optional(row?.p50),
      p90: optional(row?.p90),
      p95: optional(row?.p95),
      max: optional(row?.max),
      mean: row?.mean ?? null,
    },
  };
}

/** The rows of one window as the evaluator's figures (every channel and key present). */
function evaluatedWindow(rows: readonly FiguresRow[], policy: Policy): EvaluatedWindow {
  const find = (kind: FiguresRow['kind'], key: string) =>
    rows.find((row) => row.kind === kind && row.key === key);
  const attendance: Record<string, AttendanceFigures> = {};
  for (const key of policy.attendanceKeys()) {
    attendance[key] = attendanceFigures(find('incident', key));
  }
  let met = 0;
  let breached = 0;
  let pending = 0;
  let negative = 0;
  let orphans = 0;
  for (const row of rows) {
    met += count(row.victim_met);
    breached += count(row.victim_breached);
    pending += count(row.victim_pending);
    negative += count(row.negative_durations);
    orphans += count(row.orphan_events);
  }
  return {
    calls: {
      '999': channelFigures(find('call', '999')),
      '101': channelFigures(find('call', '101')),
    },
    attendance,
    victim_updates: {
      met,
      breached,
      pending,
      compliance: ratio(met, breached),
    },
    data_quality: { negative_durations: negative, orphan_events: orphans },
  };
}

/** The window's id bounds ({@link ITEM_ID_BOUNDS_SQL}) as of `asOf`; undefined when it has no items. */
async function itemIdBounds(
  client: ClickHouseClient,
  params: { force: string; asOf: number; readFrom: number; readTo: number },
): Promise<{ ranges: { calls: boolean; incidents: boolean }; bounds: IdBounds } | undefined> {
  const result = await client.query({
    query: ITEM_ID_BOUNDS_SQL,
    format: 'JSONEachRow',
    query_params: params,
  });
  const [row] = await result.json<ItemIdBoundsRow>();
  const ranges = { calls: count(row?.calls) > 0, incidents: count(row?.incidents) > 0 };
  if (!ranges.calls && !ranges.incidents) return undefined;
  return {
    ranges,
    bounds: {
      callLow: ranges.calls ? row!.call_low : '',
      callHigh: ranges.calls ? row!.call_high : '',
      incidentLow: ranges.incidents ? row!.incident_low : '',
      incidentHigh: ranges.incidents ? row!.incident_high : '',
    },
  };
}

interface IdBounds {
  callLow: string;
  callHigh: string;
  incidentLow: string;
  incidentHigh: string;
}

const NO_BOUNDS: IdBounds = { callLow: '', callHigh: '', incidentLow: '', incidentHigh: '' };

/** The row of {@link WEEK_FACTS_STATE_SQL}. */
interface WeekFactsStateRow {
  dated: Int64;
  within: Int64;
  last_at: Int64;
}

/** The latest row of `week_fact_refreshes` for a window, and the force's events now. */
interface WeekFactsRefreshRow extends WeekFactsStateRow {
  refresh: Int64;
  items: Int64;
  force_events: Int64;
  force_events_now: Int64;
  call_low: string;
  call_high: string;
  incident_low: string;
  incident_high: string;
}

async function weekFactsState(
  client: ClickHouseClient,
  params: { force: string; readFrom: number; readTo: number } & IdBounds,
): Promise<{ dated: number; within: number; lastAt: number }> {
  const result = await client.query({
    query: WEEK_FACTS_STATE_SQL,
    format: 'JSONEachRow',
    query_params: { ...params },
  });
  const [row] = await result.json<WeekFactsStateRow>();
  return { dated: count(row?.dated), within: count(row?.within), lastAt: count(row?.last_at) };
}

/** The items stored under a refresh. */
async function refreshItems(
  client: ClickHouseClient,
  window: { force: string; readFrom: number },
  refresh: Int64,
): Promise<number> {
  const result = await client.query({
    query: `SELECT count() AS items FROM week_facts
            WHERE force = {force:String} AND week_from = {readFrom:Int64} AND refresh = {refresh:UInt64}`,
    format: 'JSONEachRow',
    query_params: { force: window.force, readFrom: window.readFrom, refresh },
  });
  const [row] = await result.json<{ items: Int64 }>();
  return count(row?.items);
}

/** The force's stored events, by primary key; also a scalar subquery of the look-up. */
const FORCE_EVENTS_SQL = 'SELECT count() AS events FROM events WHERE force = {force:String}';

async function forceEventCount(client: ClickHouseClient, force: string): Promise<number> {
  const result = await client.query({
    query: FORCE_EVENTS_SQL,
    format: 'JSONEachRow',
    query_params: { force },
  });
  const [row] = await result.json<{ events: Int64 }>();
  return count(row?.events);
}

/** `asOf` for facts as of every stored event: the last instant of year 9999, the contract's last. */
const EVERY_EVENT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** What {@link refreshWeekFacts} did. */
export interface WeekFactsRefresh {
  /** False when events were stored meanwhile: the facts were not kept; refresh again. */
  stored: boolean;
  /** True when the facts stored before still held, so nothing was read again. */
  unchanged: boolean;
  /** Calls, incidents and orphan calls of the window. */
  items: number;
}

/**
 * Stores the facts of the window's items as of every stored event, for
 * {@link weekFiguresFromFacts} — unless the facts stored before still hold, which it checks
 * first (a few counts). Counts taken before and after the facts are read tell
 * whether any event was stored meanwhile (the store only adds events); if so, the refresh
 * is not recorded and the previous one, if any, stays in force (and stale).
 */
export async function refreshWeekFacts(
  client: ClickHouseClient,
  firstCopyOrder: string,
  options: { force: string; span: Span },
): Promise<WeekFactsRefresh> {
  const { force, span } = options;
  const window = { force, readFrom: span.from, readTo: span.to };
  const previous = await latestRefresh(client, window);
  if (
    previous !== undefined &&
    (await stillHolds(client, window, previous)) &&
    (await refreshItems(client, window, previous.refresh)) === count(previous.items)
  ) {
    return { stored: true, unchanged: true, items: count(previous.items) };
  }
  const forceEvents = await forceEventCount(client, force);
  // Dated events first: an item that joins the window after this count but before the
  // bounds are read changes it, so the bounds cannot silently miss it.
  const before = await weekFactsState(client, { ...window, ...NO_BOUNDS });
  const found = await itemIdBounds(client, { ...window, asOf: EVERY_EVENT });
  const bounds = found?.bounds ?? NO_BOUNDS;
  const seen = await weekFactsState(client, { ...window, ...bounds });
  const refresh = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  if (found !== undefined) {
    await client.command({
      query: weekFactsRefreshSql(firstCopyOrder, found.ranges),
      query_params: { ...window, ...bounds, asOf: EVERY_EVENT, refresh },
    });
  }
  const after = await weekFactsState(client, { ...window, ...bounds });
  // Counts only grow: equal at both ends, nothing was stored in between.
  if (before.dated !== after.dated || seen.within !== after.within) {
    return { stored: false, unchanged: false, items: 0 };
  }
  const items = await refreshItems(client, window, refresh);
  await client.insert({
    table: 'week_fact_refreshes',
    columns: [
      'force',
      'week_from',
      'week_to',
      'refresh',
      'items',
      'call_low',
      'call_high',
      'incident_low',
      'incident_high',
      'force_events',
      'dated',
      'within',
      'last_at',
      'refreshed_at',
    ],
    values: [
      {
        force,
        week_from: span.from,
        week_to: span.to,
        refresh,
        items,
        call_low: bounds.callLow,
        call_high: bounds.callHigh,
        incident_low: bounds.incidentLow,
        incident_high: bounds.incidentHigh,
        force_events: forceEvents,
        dated: after.dated,
        within: after.within,
        last_at: after.lastAt,
        refreshed_at: Date.now(),
      },
    ],
    format: 'JSONEachRow',
  });
  return { stored: true, unchanged: false, items };
}

/** The latest refresh of a window, with the force's event count now; undefined if none. */
async function latestRefresh(
  client: ClickHouseClient,
  window: { force: string; readFrom: number; readTo: number },
): Promise<WeekFactsRefreshRow | undefined> {
  const latest = await client.query({
    query: `SELECT refresh, items, call_low, call_high, incident_low, incident_high, force_events,
                   dated, within, last_at, (${FORCE_EVENTS_SQL}) AS force_events_now
            FROM week_fact_refreshes
            WHERE force = {force:String} AND week_from = {readFrom:Int64} AND week_to = {readTo:Int64}
            ORDER BY refresh DESC
            LIMIT 1
            SETTINGS ${WITHOUT_JIT}`,
    format: 'JSONEachRow',
    query_params: window,
  });
  const [refresh] = await latest.json<WeekFactsRefreshRow>();
  return refresh;
}

/**
 * Whether nothing that could change the window was stored since `refresh`: nothing at all
 * for the force since it began (one count, already in the row), or else neither of the
 * window's two counts moved.
 */
async function stillHolds(
  client: ClickHouseClient,
  window: { force: string; readFrom: number; readTo: number },
  refresh: WeekFactsRefreshRow,
): Promise<boolean> {
  if (count(refresh.force_events_now) === count(refresh.force_events)) return true;
  const now = await weekFactsState(client, {
    ...window,
    callLow: refresh.call_low,
    callHigh: refresh.call_high,
    incidentLow: refresh.incident_low,
    incidentHigh: refresh.incident_high,
  });
  return now.dated === count(refresh.dated) && now.within === count(refresh.within);
}

/**
 * The window's figures as of `asOf` from its stored facts — undefined when there are none
 * or they no longer hold: an event was stored since the refresh that could change the
 * window, or one of the events read is dated after `asOf`. Equal to {@link windowFigures}
 * whenever it answers.
 */
export async function weekFiguresFromFacts(
  client: ClickHouseClient,
  options: { force: string; asOf: number; policy: Policy; span: Span },
): Promise<EvaluatedWindow | undefined> {
  const { force, asOf, policy, span } = options;
  const window = { force, readFrom: span.from, readTo: span.to };
  const refresh = await latestRefresh(client, window);
  if (refresh === undefined || count(refresh.last_at) > asOf) return undefined;
  if (!(await stillHolds(client, window, refresh))) return undefined;
  const result = await client.query({
    query: WEEK_FACTS_FIGURES_SQL,
    format: 'JSONEachRow',
    query_params: {
      ...window,
      refresh: refresh.refresh,
      asOf,
      spanFrom: [span.from],
      spanTo: [span.to],
      ...policyParams(policy),
    },
  });
  const rows = await result.json<FiguresRow>();
  // Every stored item of the week is in exactly one row's count. Fewer means some of the
  // refresh's rows were superseded meanwhile (a later refresh, merged): read the events.
  const read = rows.reduce((sum, row) => sum + count(row.items), 0);
  if (read !== count(refresh.items)) return undefined;
  return evaluatedWindow(rows, policy);
}

/**
 * The figures of `force` for each of `spans`, classified as of `asOf`, computed by the
 * engine (figures.sql.ts) — equal to `evaluateWindow` of `@callmon/compliance` over the
 * store's accepted events.
 */
export async function windowFigures(
  client: ClickHouseClient,
  firstCopyOrder: string,
  options: { force: string; asOf: number; policy: Policy; spans: readonly Span[] },
): Promise<EvaluatedWindow[]> {
  const { force, asOf, policy, spans } = options;
  const spanParams = {
    force,
    asOf,
    readFrom: Math.min(...spans.map((span) => span.from)),
    readTo: Math.max(...spans.map((span) => span.to)),
  };
  // The id bounds first, as constants of the statement below: only constants let the
  // engine skip granules by the id indexes (migration 0006).
  const found = await itemIdBounds(client, spanParams);
  if (found === undefined) {
    return spans.map(() => evaluatedWindow([], policy));
  }
  const result = await client.query({
    query: windowFiguresSql(firstCopyOrder, found.ranges),
    format: 'JSONEachRow',
    query_params: {
      ...spanParams,
      spanFrom: spans.map((span) => span.from),
      spanTo: spans.map((span) => span.to),
      ...found.bounds,
      ...policyParams(policy),
    },
  });
  const rows = await result.json<FiguresRow>();
  return spans.map((_, index) =>
    evaluatedWindow(
      rows.filter((row) => Number(row.span) === index + 1),
      policy,
    ),
  );
}
