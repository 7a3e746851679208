import type { Migration } from './migration.ts';

/**
 * Every accepted event, immutable, one row per stored copy.
 *
 * - ORDER BY (force, at, id): raw events are addressable by force and time, and a
 *   report over one force and a week reads one contiguous key range.
 * - PARTITION BY month of event time: about 10–15 M rows a month for every force of
 *   England and Wales, a unit for retention and backups; inserts set
 *   max_partitions_per_insert_block = 0 so that a batch of very late or oddly dated
 *   events is never refused (a refused batch would be retried for ever).
 * - The projection `by_id` orders (force, id) with the columns the ingest's duplicate
 *   check needs, so that look-up is a key read instead of a scan of the force's history.
 * - Bloom filters on call and incident serve the audit timelines (a call is
 *   concentrated in a few granules of its force's time range).
 * - non_replicated_deduplication_window keeps the hashes of the last 10 000 inserted
 *   blocks, so a retried batch with the same insert_deduplication_token is dropped
 *   (README: "No event counted twice").
 * - `at` and `arrived_at` are written as integer milliseconds through EPHEMERAL columns,
 *   so no text date parsing (and no date_time_input_format setting) is involved.
 */
export const events: Migration = {
  version: 1,
  name: 'events',
  statements: [
    `CREATE TABLE IF NOT EXISTS events
(
    force LowCardinality(String),
    id String,
    type LowCardinality(String),
    at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(at_ms, 'UTC'),
    at_ms Int64 EPHEMERAL,
    v UInt8,
    source LowCardinality(Nullable(String)),
    call Nullable(String),
    channel LowCardinality(Nullable(String)),
    queue LowCardinality(Nullable(String)),
    handler LowCardinality(Nullable(String)),
    incident Nullable(String),
    grade Nullable(UInt8),
    area LowCardinality(Nullable(String)),
    district LowCardinality(Nullable(String)),
    unit LowCardinality(Nullable(String)),
    fingerprint String CODEC(ZSTD(1)),
    raw String CODEC(ZSTD(3)),
    arrived_at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(arrived_ms, 'UTC'),
    arrived_ms Int64 EPHEMERAL,
    source_kind LowCardinality(String),
    source_name LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    batch String CODEC(ZSTD(1)),
    INDEX call_bloom call TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX incident_bloom incident TYPE bloom_filter(0.01) GRANULARITY 1,
    PROJECTION by_id
    (
        SELECT force, id, fingerprint, at, arrived_at, source_kind, source_name, source_partition, source_offset
        ORDER BY force, id
    )
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (force, at, id)
SETTINGS non_replicated_deduplication_window = 10000`,
  ],
};
