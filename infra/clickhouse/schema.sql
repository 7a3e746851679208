-- callmon on a ClickHouse cluster: replicated shards behind Distributed tables.
-- Mirrors packages/store/src/migrations (0001 events, 0002 rejected_events, 0003 item_ranges, 0004 acknowledgements,
-- 0005 compact_insert_parts, 0006 item_id_bounds, 0007 week_facts, 0008 raw_zstd1);
-- see README.md for the why and for how to point callmon at it.
--
-- Assumes: a cluster named `callmon` in remote_servers with internal_replication = true,
-- the macros {shard} and {replica} on every node, ClickHouse Keeper, and the settings
-- profile of config/callmon-cluster.xml for callmon's user. Run once, on any node:
--   clickhouse-client --multiquery < infra/clickhouse/schema.sql

CREATE DATABASE IF NOT EXISTS callmon ON CLUSTER callmon;

-- 0001 + 0006: every accepted event, one row per stored copy. Same columns, codecs,
-- projection and indexes as the embedded schema; the minmax indexes of 0006 (which replace
-- 0003's) are declared here instead of added by ALTER (nothing to MATERIALIZE on a new table).
CREATE TABLE IF NOT EXISTS callmon.events_local ON CLUSTER callmon
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
    raw String CODEC(ZSTD(1)),
    arrived_at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(arrived_ms, 'UTC'),
    arrived_ms Int64 EPHEMERAL,
    source_kind LowCardinality(String),
    source_name LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    batch String CODEC(ZSTD(1)),
    INDEX call_bloom call TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX incident_bloom incident TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX call_min call TYPE minmax GRANULARITY 1,
    INDEX call_max assumeNotNull(call) TYPE minmax GRANULARITY 1,
    INDEX incident_min incident TYPE minmax GRANULARITY 1,
    INDEX incident_max assumeNotNull(incident) TYPE minmax GRANULARITY 1,
    PROJECTION by_id
    (
        SELECT force, id, fingerprint, at, arrived_at, source_kind, source_name, source_partition, source_offset
        ORDER BY force, id
    )
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/callmon/events_local', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (force, at, id)
-- A retried batch (same insert_deduplication_token) is dropped if it is among the last
-- 10 000 blocks of its shard, as non_replicated_deduplication_window does in embedded mode.
-- 0005: parts written by inserts are Compact (far fewer files each); merged parts Wide as
-- usual. (index_granularity is the default, written out so that the settings read back in
-- the order the migrated table states them.)
SETTINGS replicated_deduplication_window = 10000, index_granularity = 8192, min_level_for_wide_part = 1;

-- The table callmon reads and writes: every force on one shard (cityHash64(force)), so a
-- report, a timeline and the ingest's duplicate check of a force each touch one shard.
CREATE TABLE IF NOT EXISTS callmon.events ON CLUSTER callmon AS callmon.events_local
ENGINE = Distributed(callmon, callmon, events_local, cityHash64(force));

-- 0002: every input that did not become an event, with its reason and raw bytes.
CREATE TABLE IF NOT EXISTS callmon.rejected_events_local ON CLUSTER callmon
(
    arrived_at DateTime64(3, 'UTC') DEFAULT fromUnixTimestamp64Milli(arrived_ms, 'UTC'),
    arrived_ms Int64 EPHEMERAL,
    reason LowCardinality(String),
    detail String,
    field LowCardinality(Nullable(String)),
    force LowCardinality(Nullable(String)),
    event_id Nullable(String),
    fingerprint Nullable(String),
    raw String DEFAULT base64Decode(raw_base64) CODEC(ZSTD(1)),
    raw_base64 String EPHEMERAL,
    source_kind LowCardinality(String),
    source_name LowCardinality(String),
    source_partition UInt32,
    source_offset UInt64,
    batch String CODEC(ZSTD(1))
)
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/callmon/rejected_events_local', '{replica}')
PARTITION BY toYYYYMM(arrived_at)
ORDER BY (arrived_at, source_kind, source_name, source_partition, source_offset)
SETTINGS replicated_deduplication_window = 10000;

-- A rejected input may have no force (it did not parse): those are spread by source position.
CREATE TABLE IF NOT EXISTS callmon.rejected_events ON CLUSTER callmon AS callmon.rejected_events_local
ENGINE = Distributed(callmon, callmon, rejected_events_local,
    if(isNull(force), cityHash64(source_name, source_partition, source_offset), cityHash64(assumeNotNull(force))));

-- The migration ledger callmon reads at start, one copy on every node (the same Keeper path
-- for all shards), recording the three steps above as applied: callmon then runs none of
-- its own migrations here, which would create plain MergeTree tables (and ALTER the
-- Distributed one). The checksums are those of the steps' statements in
-- packages/store/src/migrations; a new migration there needs its cluster form added here.
CREATE TABLE IF NOT EXISTS callmon.schema_migrations ON CLUSTER callmon
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/callmon/schema_migrations', '{shard}-{replica}')
ORDER BY version;

INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (1, 'events', '10430f6494d2d6583824643e0c33d2caa34171c3335bcfc0a42947c17f72225f'),
    (2, 'rejected_events', '44ec516d9b7d67cdf4df9c75a7978072ebc716d55f5303e69f58a93ae4ace91e'),
    (3, 'item_ranges', 'c203a963f71bc471e0465017ad692d38a16579b05fc4098380d4148c43c0a7c2');

-- 0004: who acknowledged which breach on the live feed, and when; one row per press, the
-- first of an alert standing (packages/store/src/acknowledgements.ts). Sharded by force as
-- `events`, so a force's acknowledgements and the query that weighs them are on one shard.
CREATE TABLE IF NOT EXISTS callmon.acknowledgements_local ON CLUSTER callmon
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
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/callmon/acknowledgements_local', '{replica}')
PARTITION BY toYYYYMM(at)
ORDER BY (force, at, alert);

CREATE TABLE IF NOT EXISTS callmon.acknowledgements ON CLUSTER callmon AS callmon.acknowledgements_local
ENGINE = Distributed(callmon, callmon, acknowledgements_local, cityHash64(force));

INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (4, 'acknowledgements', '243fe721fc0e2e5f736293e50ecdbe4308baebd09ad053bb352191e324876fbe');

-- 0005: declared in events_local's SETTINGS above.
INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (5, 'compact_insert_parts', '19821ff001bc2abfe047efb2aaa56ac3d8fbd1e84ac81e8a3f4015068c930146');

-- 0006: declared in events_local above (0003's indexes never created here).
INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (6, 'item_id_bounds', '6d265d5150798220c382924338c63ad3de8ad282cc196c149c9cba648e15d22f');

-- 0007: the week-facts cache (packages/store/README.md, Reports): facts per item of a
-- refreshed week, and per week what the refresh saw. Derived from events_local and
-- rebuilt from it at will; sharded by force as `events`, so a refresh reads and writes
-- on the force's shard. ReplacingMergeTree by `refresh`: a later refresh supersedes.
CREATE TABLE IF NOT EXISTS callmon.week_facts_local ON CLUSTER callmon
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/callmon/week_facts_local', '{replica}', refresh)
ORDER BY (force, week_from, is_call, item);

CREATE TABLE IF NOT EXISTS callmon.week_facts ON CLUSTER callmon AS callmon.week_facts_local
ENGINE = Distributed(callmon, callmon, week_facts_local, cityHash64(force));

CREATE TABLE IF NOT EXISTS callmon.week_fact_refreshes_local ON CLUSTER callmon
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
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/callmon/week_fact_refreshes_local', '{replica}', refresh)
ORDER BY (force, week_from, week_to);

CREATE TABLE IF NOT EXISTS callmon.week_fact_refreshes ON CLUSTER callmon AS callmon.week_fact_refreshes_local
ENGINE = Distributed(callmon, callmon, week_fact_refreshes_local, cityHash64(force));

INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (7, 'week_facts', 'f8ec9776e0642a7ffa4d941572fc2e8ddc1cf18d9f7e40b9cca515dccd31a1e5');

-- 0008: `raw` at ZSTD(1), declared in events_local and rejected_events_local above.
INSERT INTO callmon.schema_migrations (version, name, checksum) VALUES
    (8, 'raw_zstd1', 'cddede652f0d3a91019e2bda973bd64eff490ab62f01fed0785110a1bbaf7ec6');
