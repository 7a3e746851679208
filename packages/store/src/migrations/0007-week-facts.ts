import type { Migration } from './migration.ts';

/**
 * The week-facts cache (README, Reports): the §2–§4 facts of a window's calls and
 * incidents, stored by a refresh, so that a weekly report reads ≈ 60,000 rows of facts
 * rather than deriving them from ≈ 200,000 events — only while nothing it depends on has
 * been stored since (`week_fact_refreshes`; figures.sql.ts, WEEK_FACTS_STATE_SQL).
 *
 * - `week_facts`: one row per item and refresh. ReplacingMergeTree by `refresh`, keyed by
 *   (force, window, item): a later refresh of the window supersedes an item's row at the
 *   next merge, so old refreshes need no clean-up; readers name the refresh they read
 *   (no `FINAL`) and count what they read against the refresh's `items`, so a refresh
 *   whose rows a later one superseded — even one never recorded, cut short by a crash or a
 *   race — is never read short: the report reads the events, and the next refresh
 *   rewrites it. Rows of an item that left the window stay under their old refresh, unread.
 * - `week_fact_refreshes`: per (force, window) the latest refresh and what it saw — the
 *   force's events when it began, its item count, the id bounds it read, the counts of events dated in the
 *   window and within those bounds, and the latest event among them.
 *
 * Nothing here is a source of truth: both tables can be dropped and rebuilt from `events`.
 */
export const weekFacts: Migration = {
  version: 7,
  name: 'week_facts',
  statements: [
    `CREATE TABLE IF NOT EXISTS week_facts
(
    force           LowCardinality(String),
    week_from       Int64,
    refresh         UInt64,
    is_call         Bool,
    item            String,
    presented       Bool,
    presented_at    Int64,
    channel         LowCardinality(String),
    answer_seen     Bool,
    answered_at     Int64,
    abandon_seen    Bool,
    abandoned_at    Int64,
    responses       Array(Int64),
    opened          Bool,
    opened_at       Int64,
    area            LowCardinality(String),
    marks           Array(Tuple(Int64, UInt8, String, UInt8)),
    arrived         Bool,
    arrived_at      Int64,
    updated         Bool,
    first_update_at Int64,
    last_at         Int64
)
ENGINE = ReplacingMergeTree(refresh)
ORDER BY (force, week_from, is_call, item)`,
    `CREATE TABLE IF NOT EXISTS week_fact_refreshes
(
    force         LowCardinality(String),
    week_from     Int64,
    week_to       Int64,
    refresh       UInt64,
    items         UInt64,
    call_low      String,
    call_high     String,
    incident_low  String,
    incident_high String,
    force_events  UInt64,
    dated         UInt64,
    within        UInt64,
    last_at       Int64,
    refreshed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(refresh)
ORDER BY (force, week_from, week_to)`,
  ],
};
