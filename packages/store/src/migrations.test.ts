import { Policy, weeklyReport } from '@callmon/compliance';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemRanges } from './migrations/0003-item-ranges.ts';
import { applyMigrations, MIGRATIONS, MigrationMismatchError } from './migrations/index.ts';
import { contractEvent, storeInArrivalOrder } from './reports/test-support.ts';
import { openRawClient, openTestStore, recordsFromLines, type TestStore } from './testing.ts';

let test: TestStore;
let raw: ClickHouseClient;

beforeAll(async () => {
  test = await openTestStore();
  raw = await openRawClient(test.options);
});

afterAll(async () => {
  await raw?.close();
  await test?.cleanup();
});

async function rows<T>(query: string): Promise<T[]> {
  return (await raw.query({ query, format: 'JSONEachRow' })).json<T>();
}

/** Everything a migration can change: the tables, their definitions, and the ledger. */
async function schemaSnapshot() {
  return {
    tables: await rows<{ name: string; create_table_query: string }>(
      'SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    ),
    ledger: await rows<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version, applied_at',
    ),
  };
}

describe('migrations', () => {
  it('opening a store applies every migration and records each once', async () => {
    const { tables, ledger } = await schemaSnapshot();
    expect(tables.map((table) => table.name)).toEqual([
      'acknowledgements',
      'events',
      'rejected_events',
      'schema_migrations',
      'week_fact_refreshes',
      'week_facts',
    ]);
    expect(ledger.map((step) => [Number(step.version), step.name])).toEqual(
      MIGRATIONS.map((migration) => [migration.version, migration.name]),
    );
  });

  it('running the migrations again changes nothing', async () => {
    const before = await schemaSnapshot();
    expect(await test.store.migrate()).toEqual([]);
    expect(await applyMigrations(raw, MIGRATIONS)).toEqual([]);
    expect(await schemaSnapshot()).toEqual(before);
  });

  it('a step interrupted before its record is run again harmlessly (statements are idempotent)', async () => {
    const before = await schemaSnapshot();
    for (const migration of MIGRATIONS) {
      for (const statement of migration.statements) await raw.command({ query: statement });
    }
    expect(await schemaSnapshot()).toEqual(before);
  });

  it('an applied migration whose statements were edited is refused', async () => {
    const edited = MIGRATIONS.map((migration, index) =>
      index === 0 ? { ...migration, statements: [...migration.statements, 'SELECT 1'] } : migration,
    );
    await expect(applyMigrations(raw, edited)).rejects.toBeInstanceOf(MigrationMismatchError);
  });

  it('0005: an insert writes a Compact part, a merge a Wide one', async () => {
    // Every part is big enough for Wide here, so only the part's level decides.
    await raw.command({ query: 'ALTER TABLE events MODIFY SETTING min_bytes_for_wide_part = 0' });
    try {
      const line = (id: string) =>
        JSON.stringify({
          v: 1,
          id,
          type: 'call.presented',
          force: 'parts',
          at: '2024-03-01T10:00:00Z',
          call: id,
          channel: '999',
        });
      const position = { kind: 'file', name: 'parts.ndjson', partition: 0 } as const;
      await test.store.insertEvents(recordsFromLines([line('p1'), line('p2')], position, 0), {
        dedupToken: 'parts-1',
      });
      await test.store.insertEvents(recordsFromLines([line('p3')], position, 0), {
        dedupToken: 'parts-2',
      });
      const parts = () =>
        rows<{ level: number; part_type: string }>(
          "SELECT level, part_type FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active ORDER BY name",
        );
      expect(await parts()).toEqual([
        { level: 0, part_type: 'Compact' },
        { level: 0, part_type: 'Compact' },
      ]);
      await raw.command({ query: 'OPTIMIZE TABLE events FINAL' });
      expect(await parts()).toEqual([{ level: 1, part_type: 'Wide' }]);
      expect(await test.store.countEvents({ force: 'parts' })).toBe(3);
    } finally {
      await raw.command({ query: 'ALTER TABLE events RESET SETTING min_bytes_for_wide_part' });
    }
  });

  it('0006 over a table with 0003’s indexes and rows: it replaces them, and reports read the same', async () => {
    const indexes = async () =>
      (
        await rows<{ name: string }>(
          "SELECT name FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = 'events'",
        )
      ).map((index) => index.name);
    const migrated = await indexes();
    // Back to the schema as 0005 left it: 0006's indexes gone, 0003's back, 0006 unrecorded.
    for (const index of ['call_min', 'call_max', 'incident_min', 'incident_max']) {
      await raw.command({ query: `ALTER TABLE events DROP INDEX IF EXISTS ${index}` });
    }
    for (const statement of itemRanges.statements) await raw.command({ query: statement });
    await raw.command({
      query: 'ALTER TABLE schema_migrations DELETE WHERE version = 6 SETTINGS mutations_sync = 2',
    });
    expect(await indexes()).toEqual([
      'call_bloom',
      'incident_bloom',
      'call_from',
      'call_to',
      'incident_from',
      'incident_to',
    ]);
    const force = 'upgrade-0006';
    const at = Date.parse('2024-02-20T10:00:00.000Z');
    const events = [
      contractEvent(force, 'e1', 'call.presented', at, { call: 'c1', channel: '999' }),
      contractEvent(force, 'e2', 'call.answered', at + 12_000, { call: 'c1' }),
      contractEvent(force, 'e3', 'incident.opened', at, {
        incident: 'i1',
        grade: 1,
        area: 'urban',
      }),
      contractEvent(force, 'e4', 'unit.arrived', at + 600_000, { incident: 'i1', unit: 'NR1' }),
    ];
    await storeInArrivalOrder(test.store, events);

    const applied = await applyMigrations(raw, MIGRATIONS);
    expect(applied.map((step) => step.version)).toEqual([6]);
    expect(await indexes()).toEqual(migrated);
    const query = {
      force,
      week: '2024-W08',
      asOf: Date.parse('2024-03-01T00:00:00.000Z'),
      policy: Policy.ukDefault(),
    };
    const report = await test.store.weeklyReport(query);
    expect(report).toEqual(weeklyReport(events, query));
    expect(report.calls['999']).toMatchObject({ presented: 1, breached: 1 });
    expect(report.attendance['G1-urban']).toMatchObject({ incidents: 1, within: 1 });
  });

  it('0008: raw is ZSTD(1) in both tables, and rejected_events.raw keeps its default', async () => {
    const columns = await rows<{
      table: string;
      compression_codec: string;
      default_kind: string;
      default_expression: string;
    }>(
      `SELECT table, compression_codec, default_kind, default_expression FROM system.columns
       WHERE database = currentDatabase() AND name = 'raw' ORDER BY table`,
    );
    expect(columns).toEqual([
      {
        table: 'events',
        compression_codec: 'CODEC(ZSTD(1))',
        default_kind: '',
        default_expression: '',
      },
      {
        table: 'rejected_events',
        compression_codec: 'CODEC(ZSTD(1))',
        // The codec change leaves the column's default alone: raw still comes from raw_base64.
        default_kind: 'DEFAULT',
        default_expression: 'base64Decode(raw_base64)',
      },
    ]);
  });

  it('migrations out of version order are refused before anything runs', async () => {
    const reversed = [...MIGRATIONS].reverse();
    await expect(applyMigrations(raw, reversed)).rejects.toThrow(/must come after version/);
  });
});
