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
import { ITEM_ID_BOUNDS_SQL, windowFiguresSql } from './figures.sql.ts';

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
  const boundsResult = await client.query({
    query: ITEM_ID_BOUNDS_SQL,
    format: 'JSONEachRow',
    query_params: spanParams,
  });
  const [bounds] = await boundsResult.json<ItemIdBoundsRow>();
  const ranges = { calls: count(bounds?.calls) > 0, incidents: count(bounds?.incidents) > 0 };
  if (!ranges.calls && !ranges.incidents) {
    return spans.map(() => evaluatedWindow([], policy));
  }
  const result = await client.query({
    query: windowFiguresSql(firstCopyOrder, ranges),
    format: 'JSONEachRow',
    query_params: {
      ...spanParams,
      spanFrom: spans.map((span) => span.from),
      spanTo: spans.map((span) => span.to),
      callLow: bounds!.call_low,
      callHigh: bounds!.call_high,
      incidentLow: bounds!.incident_low,
      incidentHigh: bounds!.incident_high,
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
