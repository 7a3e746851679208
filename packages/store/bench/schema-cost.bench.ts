/**
 * What each part of the `events` schema costs an insert, in the engine alone.
 *
 *   npx tsx packages/store/bench/schema-cost.bench.ts [rows=100] [rounds=40]
 *
 * Copies of the `events` table (migration 0001, with 0003's minmax indexes, 0005's
 * Compact insert parts and 0008's `raw` at ZSTD(1)) each with one thing left out or
 * changed, and a bare two-column MergeTree as the floor, are filled in turn with the same
 * `rows` events per INSERT, the order of the variants the same every round, from a Memory
 * table (so no file is read and no JavaScript encodes anything): the time is the engine's
 * part writing — sorting, compressing, the projection, the skip indexes, the files of a
 * part. `SELECT 1` is the client's own round trip. 100 rows is a live stream's tail chunk, 25,000 a full one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { events as eventsMigration } from '../src/migrations/0001-events.ts';
import { itemRanges } from '../src/migrations/0003-item-ranges.ts';
import { openStore } from '../src/store.ts';
import { generateEvents, openRawClient, toWire } from '../src/testing.ts';

const rows = Number(process.argv[2] ?? 100);
const rounds = Number(process.argv[3] ?? 40);
const sourceRows = Math.max(50_000, rows * 2);

const folder = await mkdtemp(join(tmpdir(), 'callmon-schema-cost-'));
const dataDir = join(folder, 'chdb');
// The source rows, written through the store once (its own encoding, its own table).
const store = await openStore({ dataDir });
const generated = [
  ...generateEvents({ force: 'bench', start: Date.UTC(2024, 4, 1), count: sourceRows }),
];
await store.insertEvents(
  generated.map((event, offset) => ({
    event,
    raw: JSON.stringify(toWire(event)),
    arrivedAt: event.at + 1000,
    position: { kind: 'kafka' as const, name: 'bench', partition: 0, offset },
  })),
  { dedupToken: 'schema-cost-source' },
);
await store.close();

const client = await openRawClient({ dataDir });
const run = (query: string) => client.command({ query });
await run(
  'CREATE TABLE source ENGINE = Memory AS SELECT *, toUnixTimestamp64Milli(at) AS at_ms, ' +
    'toUnixTimestamp64Milli(arrived_at) AS arrived_ms FROM events',
);

const COLUMNS =
  'force, id, type, at_ms, v, source, call, channel, queue, handler, incident, grade, area, ' +
  'district, unit, fingerprint, raw, arrived_ms, source_kind, source_name, source_partition, ' +
  'source_offset, batch';
// 0008: `raw` at ZSTD(1) (the variants below change it from there).
const ddl = edited(
  eventsMigration.statements[0]!,
  'raw String CODEC(ZSTD(3))',
  'raw String CODEC(ZSTD(1))',
);
const COMPACT = ', min_level_for_wide_part = 1';
const PROJECTION = /,\n\s*PROJECTION by_id[\s\S]*?ORDER BY force, id\n {4}\)/;
const BLOOMS =
  '    INDEX call_bloom call TYPE bloom_filter(0.01) GRANULARITY 1,\n' +
  '    INDEX incident_bloom incident TYPE bloom_filter(0.01) GRANULARITY 1,\n';

function edited(from: string, to: string | RegExp, replacement: string): string {
  const result = from.replace(to, replacement);
  if (result === from) throw new Error(`the DDL no longer holds ${String(to)}`);
  return result;
}

interface Variant {
  ddl: string;
  minmax: boolean;
}
const variants: Record<string, Variant> = {
  'as migrated': { ddl: ddl + COMPACT, minmax: true },
  'no by_id projection': { ddl: edited(ddl, PROJECTION, '') + COMPACT, minmax: true },
  'by_id of (force, id, at) only': {
    ddl:
      edited(
        ddl,
        'SELECT force, id, fingerprint, at, arrived_at, source_kind, source_name, source_partition, source_offset',
        'SELECT force, id, at',
      ) + COMPACT,
    minmax: true,
  },
  'no bloom filters': { ddl: edited(ddl, BLOOMS, '') + COMPACT, minmax: true },
  'no minmax indexes (0003)': { ddl: ddl + COMPACT, minmax: false },
  'raw as LZ4': {
    ddl: edited(ddl, 'raw String CODEC(ZSTD(1))', 'raw String CODEC(LZ4)') + COMPACT,
    minmax: true,
  },
  'raw as ZSTD(3) (before 0008)': {
    ddl: edited(ddl, 'raw String CODEC(ZSTD(1))', 'raw String CODEC(ZSTD(3))') + COMPACT,
    minmax: true,
  },
  'no dedup window': {
    ddl: edited(
      ddl,
      'SETTINGS non_replicated_deduplication_window = 10000',
      'SETTINGS min_level_for_wide_part = 1',
    ),
    minmax: true,
  },
};

const tables = new Map<string, string>();
for (const [index, [name, variant]] of Object.entries(variants).entries()) {
  const table = `variant_${index}`;
  tables.set(name, table);
  await run(edited(variant.ddl, 'CREATE TABLE IF NOT EXISTS events', `CREATE TABLE ${table}`));
  if (variant.minmax) {
    for (const statement of itemRanges.statements) {
      if (statement.includes('ADD INDEX')) await run(statement.replace('events', table));
    }
  }
}
await run(
  'CREATE TABLE bare (force LowCardinality(String), id String) ENGINE = MergeTree ORDER BY (force, id)',
);

const times = new Map<string, number[]>();
const time = async (name: string, work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  const list = times.get(name) ?? [];
  list.push(performance.now() - started);
  times.set(name, list);
};
for (let round = 0; round < rounds; round++) {
  const window = `LIMIT ${rows} OFFSET ${(round * rows) % (sourceRows - rows)}`;
  for (const [name, table] of tables) {
    await time(name, () =>
      run(
        `INSERT INTO ${table} (${COLUMNS}) SETTINGS insert_deduplicate = 1, ` +
          `insert_deduplication_token = 'round-${round}', max_partitions_per_insert_block = 0 ` +
          `SELECT ${COLUMNS} FROM source ${window}`,
      ),
    );
  }
  await time('floor: bare (force, id) MergeTree', () =>
    run(`INSERT INTO bare SELECT force, id FROM source ${window}`),
  );
  await time('floor: SELECT 1', () => run('SELECT 1'));
}
await client.close();
await rm(folder, { recursive: true, force: true });

const at = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
console.log(`\n${rows} rows an INSERT, ${rounds} rounds, variants in turn\n`);
console.log('| table | p10 (ms) | median | p90 |\n|---|---|---|---|');
for (const [name, list] of times) {
  const sorted = [...list].sort((a, b) => a - b);
  const cells = [0.1, 0.5, 0.9].map((p) => at(sorted, p).toFixed(1));
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
