import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS, MigrationMismatchError } from './migrations/index.ts';
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

  it('migrations out of version order are refused before anything runs', async () => {
    const reversed = [...MIGRATIONS].reverse();
    await expect(applyMigrations(raw, reversed)).rejects.toThrow(/must come after version/);
  });
});
