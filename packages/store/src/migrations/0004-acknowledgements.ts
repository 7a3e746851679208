import type { Migration } from './migration.ts';

/**
 * Who acknowledged which breach on the live feed, and when (README, issue 5): a record an
 * inspector can ask for later, shared by every api node that reads this store.
 *
 * - One row per press as recorded by an api node; rows are never updated. Two presses of
 *   one breach (two screens, two nodes) are both kept, and which one stands is decided
 *   when reading (acknowledgements.ts): the earliest `at`, then subject, node and role, so
 *   every node and every audit query agree without coordinating writes.
 * - `alert` is the live channel's alert id (kind:rule:item:feed time); `kind`, `rule` and
 *   `item` are the alert's own fields, kept so a query needs no parsing of the id.
 * - `at` is the node's wall clock (UTC ms), written through an EPHEMERAL column as in
 *   `events`; `node` names the api process that recorded it.
 * - ORDER BY (force, at, alert): a force's acknowledgements over a time range are one key
 *   range; PARTITION BY month as the other tables, for retention.
 */
export const acknowledgements: Migration = {
  version: 4,
  name: 'acknowledgements',
  statements: [
    `CREATE TABLE IF NOT EXISTS acknowledgements
(
    force LowCardinality(String),
    alert String,
    kind LowCardinality(String),
    rule LowCardinality(String),
    item String,
    subject String,
    role LowCardinality(String),
    at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(at_ms, 'UTC'),
    at_ms Int64 EPHEMERAL,
    node LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (force, at, alert)`,
  ],
};
