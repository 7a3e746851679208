import type { Migration } from './migration.ts';

/**
 * Every input that did not become an event, with its reason: the parse rejections of
 * the contract (REJECT_REASONS) and the identity outcomes `conflict` (same force and id,
 * different content) and `duplicate`. `raw` holds the bytes exactly as received,
 * written as base64 through an EPHEMERAL column because a JSON string cannot carry
 * bytes that are not UTF-8 (`invalid_encoding`).
 */
export const rejectedEvents: Migration = {
  version: 2,
  name: 'rejected_events',
  statements: [
    `CREATE TABLE IF NOT EXISTS rejected_events
(
    arrived_at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(arrived_ms, 'UTC'),
    arrived_ms Int64 EPHEMERAL,
    reason LowCardinality(String),
    detail String,
    field LowCardinality(Nullable(String)),
    force LowCardinality(Nullable(String)),
    event_id Nullable(String),
    fingerprint Nullable(String),
    raw String DEFAULT base64Decode(raw_base64) CODEC(ZSTD(3)),
    raw_base64 String EPHEMERAL,
    source_kind LowCardinality(String),
    source_name LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    batch String CODEC(ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(arrived_at)
ORDER BY (arrived_at, source_kind, source_name, source_partition, source_offset)
SETTINGS non_replicated_deduplication_window = 10000`,
  ],
};
