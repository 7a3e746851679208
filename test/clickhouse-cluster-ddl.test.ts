import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRawClient, openTestStore, type TestStore } from '@callmon/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * infra/clickhouse/schema.sql must stay the cluster form of the store's migrations. No
 * cluster here, so its statements run on the store's own engine (chDB, or the server of
 * CLICKHOUSE_URL) with the cluster parts taken out: no ON CLUSTER, the Replicated engines
 * as their plain forms, no Distributed tables. The local tables must then come out exactly
 * as the store's tables (columns, codecs, defaults, indexes, projection, key), and the
 * ledger rows it records must carry the checksums the store records for its migrations.
 */

const SCHEMA = readFileSync(join(import.meta.dirname, '../infra/clickhouse/schema.sql'), 'utf8');
const DATABASE = 'callmon_cluster_ddl';

type ClickHouseClient = Awaited<ReturnType<typeof openRawClient>>;

/** The statements of schema.sql, comments dropped, turned single-node. */
function singleNode(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '' && !/ENGINE = Distributed\(/.test(statement))
    .map((statement) =>
      statement
        .replaceAll(' ON CLUSTER callmon', '')
        .replaceAll('callmon.', `${DATABASE}.`)
        .replace(
          /CREATE DATABASE IF NOT EXISTS callmon\b/,
          `CREATE DATABASE IF NOT EXISTS ${DATABASE}`,
        )
        .replace(/Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, )?/, '$1(')
        .replace('replicated_deduplication_window', 'non_replicated_deduplication_window'),
    );
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  return result.json<T>();
}

describe('infra/clickhouse/schema.sql', () => {
  let test: TestStore;
  let client: ClickHouseClient;
  let storeDatabase: string;

  beforeAll(async () => {
    test = await openTestStore();
    client = await openRawClient(test.options);
    storeDatabase = 'database' in test.options ? (test.options.database ?? 'default') : 'default';
    for (const statement of singleNode(SCHEMA)) await client.command({ query: statement });
  });

  afterAll(async () => {
    await client?.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` });
    await client?.close();
    await test?.cleanup();
  });

  it('declares the Replicated and Distributed tables callmon uses', () => {
    expect(SCHEMA).toContain(
      'ENGINE = Distributed(callmon, callmon, events_local, cityHash64(force))',
    );
    expect(SCHEMA).toMatch(/ENGINE = Distributed\(callmon, callmon, rejected_events_local,/);
    expect(SCHEMA.match(/ENGINE = Replicated\w*MergeTree\(/g)).toHaveLength(6);
    expect(SCHEMA).toMatch(/ENGINE = Distributed\(callmon, callmon, acknowledgements_local,/);
    expect(SCHEMA).toMatch(/ENGINE = Distributed\(callmon, callmon, week_facts_local,/);
    expect(SCHEMA).toMatch(/ENGINE = Distributed\(callmon, callmon, week_fact_refreshes_local,/);
  });

  for (const [local, table] of [
    ['events_local', 'events'],
    ['rejected_events_local', 'rejected_events'],
    ['acknowledgements_local', 'acknowledgements'],
    ['week_facts_local', 'week_facts'],
    ['week_fact_refreshes_local', 'week_fact_refreshes'],
  ] as const) {
    it(`${local} has the columns, indexes and keys of the store's ${table}`, async () => {
      // The whole definition as the engine states it back (columns, codecs, defaults,
      // indexes, projection, keys, settings), the table's own name taken out.
      const shape = async (database: string, name: string) => {
        const [row] = await rows<{ query: string }>(
          client,
          `SELECT create_table_query AS query FROM system.tables
           WHERE database = '${database}' AND name = '${name}'`,
        );
        return row?.query.replace(`CREATE TABLE ${database}.${name} `, 'CREATE TABLE t ');
      };
      const cluster = await shape(DATABASE, local);
      const store = await shape(storeDatabase, table);
      expect(cluster).toMatch(/ENGINE = (Replacing)?MergeTree/);
      expect(cluster).toEqual(store);
    });
  }

  it("records the store's migrations with the checksums the store computes", async () => {
    const query = (database: string) =>
      `SELECT DISTINCT version, name, checksum FROM ${database}.schema_migrations ORDER BY version`;
    const recorded = await rows(client, query(DATABASE));
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded).toEqual(await rows(client, query(storeDatabase)));
  });
});
