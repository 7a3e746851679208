/**
 * docs/metrics.md §2–§6 in SQL, once: the figures of one force for a list of windows
 * `[from, to)`, every item classified as of `asOf`. The TypeScript twin is
 * `evaluateWindow` in `@callmon/compliance` (facts.ts, rules.ts, figures.ts); the tests in
 * this folder hold the two equal. Comments name the rule each step implements.
 *
 * Two statements. First the bounds of the window's call and incident ids
 * ({@link ITEM_ID_BOUNDS_SQL}); then one pass in five steps: every stored event within
 * those bounds, first copy of each id, `at <= T` → facts per call and incident → each item
 * classified → figures per window.
 *
 * Parameters (policy versions are 1-based, in `effective_from` order):
 *
 * | name | type | |
 * |---|---|---|
 * | `force` | String | |
 * | `asOf` | Int64 | `T`, UTC ms |
 * | `spanFrom`, `spanTo` | Array(Int64) | the windows, `[from, to)` |
 * | `readFrom`, `readTo` | Int64 | the smallest `from` and the largest `to` (bounds only) |
 * | `callLow`, `callHigh`, `incidentLow`, `incidentHigh` | String | the id bounds (figures only; see {@link ItemIdRanges}) |
 * | `laterVersionsFrom` | Array(Int64) | `effective_from` of versions 2…n |
 * | `within999`, `within101` | Array(Int64) | answer target per version, ms |
 * | `abandoned999`, `abandoned101` | Array(String) | abandoned-call rule per version |
 * | `graceMs` | Array(Int64) | victim-update grace per version, ms |
 * | `targetKey`, `targetWithinMs` | Array(String), Array(Int64) | the attendance target of each (version, grade, area) cell, at `(version − 1) × 8 + (grade − 1) × 2 + (rural ? 2 : 1)`; key `''` where there is none |
 *
 * One row comes back per (window, kind, key) that has items: kind `call` (key: channel),
 * `incident` (key: attendance key, `''` when the incident has no target), `orphans`.
 */

/** Events that make facts (§2–§4); `call.closed`, dispatch and close are informational. */
const FACT_TYPES =
  "('call.presented', 'call.answered', 'call.abandoned', 'incident.opened', 'incident.regraded', 'unit.arrived', 'victim.updated')";

/**
 * §1: the policy version in effect at instant `at` — the last version whose
 * `effective_from` is at or before it; an item older than every version is judged by the
 * first (Policy.versionAt).
 */
const versionAt = (at: string) =>
  `1 + arrayCount(start -> start <= ${at}, {laterVersionsFrom:Array(Int64)})`;

/**
 * §5 nearest rank on the sorted `durations` (`n_durations` of them): the value at 1-based
 * rank `ceil(p × n)`, in integer arithmetic as `nearestRank` does.
 */
const nearestRank = (percent: number) =>
  `if(n_durations = 0, NULL, durations[intDiv(${percent} * n_durations + 99, 100)])`;

/** The events that bring a window its items: presented, answered, abandoned / opened. */
const CALL_ITEM_TYPES = "('call.presented', 'call.answered', 'call.abandoned')";

/**
 * The lowest and highest call and incident id with an event that brings an item to a
 * window, dated in the read range (primary key on `at`) and at or before `asOf`: an item
 * presented/opened in a window has that event in the range; answers and abandons bring
 * the calls whose events may be orphans. One row; `calls` / `incidents` 0 when none.
 * Same parameters as {@link windowFiguresSql}, less the id bounds.
 */
/**
 * Settings of every statement a report runs: no JIT. The engine compiles an expression,
 * aggregate or sort with LLVM the third time it sees it, within the query that gets there,
 * so one report in a process took ≈ 250–330 ms longer than the rest, while the compiled code
 * saved at most ≈ 5 % after, within the runs' noise (BENCHMARKS.md, "Weekly report in SQL").
 */
export const WITHOUT_JIT =
  'compile_expressions = 0, compile_aggregate_expressions = 0, compile_sort_description = 0';

export const ITEM_ID_BOUNDS_SQL = `
SELECT
    countIf(is_call) AS calls,
    minIf(assumeNotNull(call), is_call) AS call_low,
    maxIf(assumeNotNull(call), is_call) AS call_high,
    countIf(NOT is_call) AS incidents,
    minIf(assumeNotNull(incident), NOT is_call) AS incident_low,
    maxIf(assumeNotNull(incident), NOT is_call) AS incident_high
FROM
(
    SELECT type IN ${CALL_ITEM_TYPES} AS is_call, call, incident
    FROM events
    WHERE force = {force:String}
      AND at >= fromUnixTimestamp64Milli({readFrom:Int64}, 'UTC')
      AND at < fromUnixTimestamp64Milli({readTo:Int64}, 'UTC')
      AND at <= fromUnixTimestamp64Milli({asOf:Int64}, 'UTC')
      AND (type IN ${CALL_ITEM_TYPES} OR type = 'incident.opened')
)
SETTINGS ${WITHOUT_JIT}`;

/** Which of the id bounds a window has (none: it has no items, and nothing is read). */
export interface ItemIdRanges {
  calls: boolean;
  incidents: boolean;
}

/**
 * The first copy of every stored event of the calls and incidents whose ids lie within the
 * window's bounds (parameters `callLow`/`callHigh`, `incidentLow`/`incidentHigh`): a
 * superset of its items' events, since an item is within the bounds of its own window.
 * Items read beyond the window's own drop out at the windows step (their start is outside
 * every span, or, as orphans, their responses are).
 *
 * One read per kind of item, as the facts step splits them: call events (`call.*`) by
 * call id, every other event by incident id. Each read is a plain conjunction that
 * migration 0006's indexes answer (`call_min`: `call <= high`; `call_max`:
 * `assumeNotNull(call) >= low`); over `OR`, the engine's combination of skip indexes kept
 * most granules in some layouts. Each read takes its own first copy of each id (the first
 * to arrive, as everywhere in the store), so copies are compared within a kind.
 */
export function firstCopiesWithinIdBounds(ranges: ItemIdRanges, firstCopyOrder: string): string {
  const reads: string[] = [];
  const read = (column: 'call' | 'incident', kind: string, low: string, high: string) => `
        SELECT id, type, at, channel, call, incident, grade, area
        FROM events
        WHERE force = {force:String} AND ${kind}
          AND assumeNotNull(${column}) >= {${low}:String} AND ${column} <= {${high}:String}
        ORDER BY id, ${firstCopyOrder}
        LIMIT 1 BY id`;
  if (ranges.calls) reads.push(read('call', "startsWith(type, 'call.')", 'callLow', 'callHigh'));
  if (ranges.incidents) {
    reads.push(read('incident', "NOT startsWith(type, 'call.')", 'incidentLow', 'incidentHigh'));
  }
  if (reads.length === 0) throw new Error('a window without items reads nothing');
  return reads.join('\n        UNION ALL');
}

export function windowFiguresSql(firstCopyOrder: string, ranges: ItemIdRanges): string {
  return `
WITH
${itemFactsCtes(firstCopyOrder, ranges)},
${ITEMS_AND_FIGURES}`;
}

/**
 * `item_events`, `ordered_events` and `facts` (§2–§4 facts per call and incident, as of
 * `asOf`) over the first copies within the id bounds: the common part of
 * {@link windowFiguresSql} and {@link WEEK_FACTS_REFRESH_SQL}.
 */
function itemFactsCtes(firstCopyOrder: string, ranges: ItemIdRanges): string {
  return `
-- Every stored event of the calls and incidents within the window's id bounds, at any time
-- (so every event of its items), de-duplicated by id — the first copy to arrive wins, as
-- everywhere in the store — and only then cut at T, so that a conflicting later copy stays
-- out even when the first copy is dated after T.
item_events AS (
    SELECT id, type, toUnixTimestamp64Milli(at) AS at_ms, channel, call, incident, grade, area
    FROM
    (
${firstCopiesWithinIdBounds(ranges, firstCopyOrder)}
    )
    WHERE at_ms <= {asOf:Int64} AND type IN ${FACT_TYPES}
),
-- "Earliest" is by (at, id), ids in byte order (facts.ts, compareIds): as one string, the
-- time fixed-width (the contract's years 0000–9999 are -62e12…253e12 ms) and then the id,
-- so that the engine compares plain strings rather than tuples.
ordered_events AS (
    SELECT *, concat(leftPad(toString(at_ms + 100000000000000), 15, '0'), id) AS earliest
    FROM item_events
),
-- Facts per call (§2) and per incident (§3, §4), each a minimum over events or a history.
facts AS (
    SELECT
        startsWith(type, 'call.') AS is_call,
        if(is_call, assumeNotNull(call), assumeNotNull(incident)) AS item,
        -- §2: earliest presented, its channel from the earliest (at, id); earliest answered,
        -- earliest abandoned; the times of all answers and abandons (orphans).
        countIf(type = 'call.presented') > 0 AS presented,
        minIf(at_ms, type = 'call.presented') AS presented_at,
        argMinIf(assumeNotNull(channel), earliest, type = 'call.presented') AS channel,
        countIf(type = 'call.answered') > 0 AS answer_seen,
        minIf(at_ms, type = 'call.answered') AS answered_at,
        countIf(type = 'call.abandoned') > 0 AS abandon_seen,
        minIf(at_ms, type = 'call.abandoned') AS abandoned_at,
        groupArrayIf(at_ms, type IN ('call.answered', 'call.abandoned')) AS responses,
        -- §3: earliest opened, its area from the earliest (at, id); grade marks in
        -- (at, regrade after opened, id) order; earliest arrival; §4 first victim update.
        countIf(type = 'incident.opened') > 0 AS opened,
        minIf(at_ms, type = 'incident.opened') AS opened_at,
        argMinIf(assumeNotNull(area), earliest, type = 'incident.opened') AS area,
        arraySort(groupArrayIf(
            (at_ms, toUInt8(type = 'incident.regraded'), id, assumeNotNull(grade)),
            type IN ('incident.opened', 'incident.regraded'))) AS marks,
        countIf(type = 'unit.arrived') > 0 AS arrived,
        minIf(at_ms, type = 'unit.arrived') AS arrived_at,
        countIf(type = 'victim.updated') > 0 AS updated,
        minIf(at_ms, type = 'victim.updated') AS first_update_at,
        -- The item's last fact event: its facts hold as of any T at or after it.
        max(at_ms) AS last_at
    FROM ordered_events
    GROUP BY is_call, item
)`;
}

/**
 * The `items` step (each item classified as of `asOf`) and the figures per window, over a
 * `facts` CTE with the columns of {@link itemFactsCtes}' (either computed from the events
 * or read from `week_facts`).
 */
const ITEMS_AND_FIGURES = `
items AS (
    SELECT
        -- A call with no presented event (as of T) is an orphan: out of every figure, its
        -- answer/abandon events counted in data quality by their own time.
        multiIf(is_call AND presented, 'call', is_call, 'orphans', opened, 'incident', '') AS kind,
        if(is_call, presented_at, opened_at) AS start_at,
        ${versionAt('start_at')} AS version,

        -- §2 calls, with S = answer_within_s × 1000 for the channel.
        if(channel = '999', {within999:Array(Int64)}[version], {within101:Array(Int64)}[version]) AS within_ms,
        answer_seen AND (NOT abandon_seen OR answered_at <= abandoned_at) AS answered,
        answered_at - presented_at AS raw_answer_ms,
        greatest(raw_answer_ms, 0) AS answer_ms,
        if(channel = '999', {abandoned999:Array(String)}[version], {abandoned101:Array(String)}[version]) AS abandoned_rule,
        multiIf(
            answered, if(answer_ms <= within_ms, 'within', 'breached'),
            abandon_seen,
                if(abandoned_rule = 'breach'
                   OR (abandoned_rule = 'breach_if_late' AND abandoned_at - presented_at > within_ms),
                   'breached', 'excluded'),
            {asOf:Int64} - presented_at > within_ms, 'breached',
            'pending') AS call_class,

        -- §3 attendance. Effective grade: the last mark at or before
        -- max(opened_at, min(arrived_at, T)); its target for the incident's area from the
        -- policy's (version, grade, area) table; none → excluded.
        arrayLast(mark -> mark.1 <= greatest(opened_at, if(arrived, arrived_at, {asOf:Int64})), marks).4 AS grade,
        -- (Index 0, the empty default, for calls.)
        if(kind = 'incident', (version - 1) * 8 + (grade - 1) * 2 + if(area = 'rural', 2, 1), 0) AS target_cell,
        {targetKey:Array(String)}[target_cell] AS target_key,
        target_key != '' AS target,
        opened_at + {targetWithinMs:Array(Int64)}[target_cell] AS deadline,
        multiIf(
            NOT target, '',
            arrived, if(arrived_at <= deadline, 'within', 'breached'),
            {asOf:Int64} > deadline, 'breached',
            'pending') AS attendance_class,
        -- §4: due = deadline + grace; the first rule that applies.
        deadline + {graceMs:Array(Int64)}[version] AS due,
        multiIf(
            NOT target OR {asOf:Int64} <= deadline, 'not_counted',
            arrived AND arrived_at <= due, 'not_applicable',
            updated AND first_update_at <= due, 'met',
            {asOf:Int64} > due, 'breached',
            'pending') AS victim,

        multiIf(kind = 'call', channel, kind = 'incident', target_key, '') AS key,
        multiIf(
            kind = 'call', multiIf(answered, 'answered', abandon_seen, 'abandoned', 'unresolved'),
            arrived, 'attended',
            '') AS outcome,
        if(kind = 'call', call_class, attendance_class) AS class,
        if(kind = 'call', answered, arrived) AS has_duration,
        -- answer_ms / attend_ms: negative taken as 0, counted in data quality.
        if(kind = 'call', answer_ms, greatest(arrived_at - opened_at, 0)) AS duration,
        if(kind = 'call', answered AND raw_answer_ms < 0, arrived AND arrived_at < opened_at) AS negative,
        if(kind = 'orphans', responses, []) AS orphan_responses
    FROM facts
    WHERE kind != ''
)
-- §5, §6: the figures of each window over the items presented/opened in it.
SELECT
    span, kind, key, items, answered, abandoned, unresolved, attended, within, breached, pending,
    excluded, compliance,
    ${nearestRank(50)} AS p50,
    ${nearestRank(90)} AS p90,
    ${nearestRank(95)} AS p95,
    if(n_durations = 0, NULL, durations[n_durations]) AS max,
    if(n_durations = 0, NULL, duration_sum / n_durations) AS mean,
    le_10s, s10_to_60, gt_60s, victim_met, victim_breached, victim_pending,
    negative_durations, orphan_events
FROM
(
    SELECT
        span,
        kind,
        key,
        count() AS items,
        countIf(outcome = 'answered') AS answered,
        countIf(outcome = 'abandoned') AS abandoned,
        countIf(outcome = 'unresolved') AS unresolved,
        countIf(outcome = 'attended') AS attended,
        countIf(class = 'within') AS within,
        countIf(class = 'breached') AS breached,
        countIf(class = 'pending') AS pending,
        countIf(class = 'excluded') AS excluded,
        if(within + breached = 0, NULL, within / (within + breached)) AS compliance,
        arraySort(groupArrayIf(duration, has_duration)) AS durations,
        length(durations) AS n_durations,
        sumIf(duration, has_duration) AS duration_sum,
        -- Answer-time bands (only calls have them; attendance rows ignore these).
        countIf(has_duration AND duration <= 10000) AS le_10s,
        countIf(has_duration AND duration > 10000 AND duration <= 60000) AS s10_to_60,
        countIf(has_duration AND duration > 60000) AS gt_60s,
        countIf(victim = 'met') AS victim_met,
        countIf(victim = 'breached') AS victim_breached,
        countIf(victim = 'pending') AS victim_pending,
        countIf(negative) AS negative_durations,
        sum(arrayCount(
            at -> at >= {spanFrom:Array(Int64)}[span] AND at < {spanTo:Array(Int64)}[span],
            orphan_responses)) AS orphan_events
    FROM items
    ARRAY JOIN arrayEnumerate({spanFrom:Array(Int64)}) AS span
    WHERE kind = 'orphans'
       OR (start_at >= {spanFrom:Array(Int64)}[span] AND start_at < {spanTo:Array(Int64)}[span])
    GROUP BY span, kind, key
)
SETTINGS
    -- Checking tens of thousands of ids against each granule's bloom filter costs more
    -- than it saves; the minmax indexes do the skipping. The by_id projection is for the
    -- ingest's look-ups, and weighing it for these reads costs time.
    ignore_data_skipping_indices = 'call_bloom,incident_bloom',
    optimize_use_projections = 0,
    ${WITHOUT_JIT}`;

/**
 * The week-facts cache (migration 0007, README "Reports"): one refresh stores the facts of
 * a window's items as of every stored event, so that a report whose `asOf` is at or after
 * all of them reads ≈ 60,000 rows of facts instead of deriving them from ≈ 200,000 events.
 *
 * {@link WEEK_FACTS_STATE_SQL} is what decides whether stored facts still hold: the store
 * only ever adds events, so equal counts mean nothing was written since.
 *
 * - `dated`: events of the force dated in the window — any item that could join the
 *   window has its presented/opened event, or an answer or abandon (orphans), there;
 * - `within`: events within the id bounds the refresh read (calls' events by call id, the
 *   others by incident id, as {@link firstCopiesWithinIdBounds} reads them) — a later
 *   event of an item already in the window is among them, wherever it is dated;
 * - `last_at`: the latest event among those, every copy: stored facts equal the facts as
 *   of `T` only when `T` is at or after it.
 *
 * Parameters: `force`, `readFrom`, `readTo`, and the id bounds (`''` for a kind with none).
 */
export const WEEK_FACTS_STATE_SQL = `
SELECT
    (SELECT count() FROM events
     WHERE force = {force:String}
       AND at >= fromUnixTimestamp64Milli({readFrom:Int64}, 'UTC')
       AND at < fromUnixTimestamp64Milli({readTo:Int64}, 'UTC')) AS dated,
    calls.n + incidents.n AS within,
    greatest(calls.last_at, incidents.last_at) AS last_at
FROM
    (SELECT count() AS n, max(toUnixTimestamp64Milli(at)) AS last_at FROM events
     WHERE force = {force:String} AND startsWith(type, 'call.')
       AND assumeNotNull(call) >= {callLow:String} AND call <= {callHigh:String}) AS calls
    CROSS JOIN
    (SELECT count() AS n, max(toUnixTimestamp64Milli(at)) AS last_at FROM events
     WHERE force = {force:String} AND NOT startsWith(type, 'call.')
       AND assumeNotNull(incident) >= {incidentLow:String} AND incident <= {incidentHigh:String}) AS incidents
SETTINGS ignore_data_skipping_indices = 'call_bloom,incident_bloom', optimize_use_projections = 0,
    ${WITHOUT_JIT}`;

/** The columns of `week_facts` that hold an item's facts, in {@link itemFactsCtes}' names. */
const FACT_COLUMNS = `is_call, item, presented, presented_at, channel, answer_seen, answered_at,
    abandon_seen, abandoned_at, responses, opened, opened_at, area, marks, arrived, arrived_at,
    updated, first_update_at, last_at`;

/**
 * Stores, under refresh `refresh`, the facts of the window's items as of every stored
 * event (`asOf` the largest instant): calls presented and incidents opened in
 * `[readFrom, readTo)`, and orphan calls with an answer or abandon there. Parameters as
 * {@link windowFiguresSql}'s, plus `refresh`.
 */
export function weekFactsRefreshSql(firstCopyOrder: string, ranges: ItemIdRanges): string {
  return `
INSERT INTO week_facts (force, week_from, refresh, ${FACT_COLUMNS})
WITH
${itemFactsCtes(firstCopyOrder, ranges)}
SELECT {force:String}, {readFrom:Int64}, {refresh:UInt64}, ${FACT_COLUMNS}
FROM facts
WHERE (is_call AND presented AND presented_at >= {readFrom:Int64} AND presented_at < {readTo:Int64})
   OR (NOT is_call AND opened AND opened_at >= {readFrom:Int64} AND opened_at < {readTo:Int64})
   OR (is_call AND NOT presented
       AND arrayExists(at -> at >= {readFrom:Int64} AND at < {readTo:Int64}, responses))
SETTINGS ignore_data_skipping_indices = 'call_bloom,incident_bloom', optimize_use_projections = 0`;
}

/**
 * {@link windowFiguresSql} over the facts refresh `refresh` stored for the window
 * `[readFrom, …)` (one span), instead of facts derived from the events.
 */
export const WEEK_FACTS_FIGURES_SQL = `
WITH
facts AS (
    SELECT ${FACT_COLUMNS}
    FROM week_facts
    WHERE force = {force:String} AND week_from = {readFrom:Int64} AND refresh = {refresh:UInt64}
),
${ITEMS_AND_FIGURES}`;
