import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Migration } from './migration.ts';

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version`;

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** A recorded migration whose statements no longer match the code: someone edited it. */
export class MigrationMismatchError extends Error {
  override readonly name = 'MigrationMismatchError';
}

function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.statements.join('\n;\n')).digest('hex');
}

function assertOrdered(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const previous = migrations[index - 1];
    if (!Number.isInteger(migration.version) || migration.version < 1) {
      throw new Error(`migration ${migration.name}: version must be a positive integer`);
    }
    if (previous !== undefined && migration.version <= previous.version) {
      throw new Error(
        `migration ${migration.name} (version ${migration.version}) must come after version ${previous.version}`,
      );
    }
  });
}

/**
 * Bring the schema up to date: create the ledger, check that every recorded step still
 * matches its code, run the missing steps in order, and record each after its
 * statements succeed. Returns the steps it ran (none on an up-to-date schema). Two
 * processes migrating at once both run idempotent statements and both record the
 * step; the ledger is a ReplacingMergeTree read with DISTINCT, so that is harmless.
 */
export async function applyMigrations(
  client: ClickHouseClient,
  migrations: readonly Migration[],
): Promise<AppliedMigration[]> {
  assertOrdered(migrations);
  await client.command({ query: LEDGER });
  const result = await client.query({
    query: 'SELECT DISTINCT version, checksum FROM schema_migrations ORDER BY version',
    format: 'JSONEachRow',
  });
  const recorded = new Map(
    (await result.json<{ version: number | string; checksum: string }>()).map((row) => [
      Number(row.version),
      row.checksum,
    ]),
  );

  const applied: AppliedMigration[] = [];
  for (const migration of migrations) {
    const sum = checksum(migration);
    const seen = recorded.get(migration.version);
    if (seen !== undefined) {
      if (seen !== sum) {
        throw new MigrationMismatchError(
          `migration ${migration.version} (${migration.name}) was applied with different statements; ` +
            'applied migrations must not be edited, add a new one',
        );
      }
      continue;
    }
    for (const statement of migration.statements) {
      await client.command({ query: statement });
    }
    const step = { version: migration.version, name: migration.name, checksum: sum };
    await client.insert({ table: 'schema_migrations', values: [step], format: 'JSONEachRow' });
    applied.push(step);
  }
  return applied;
}
