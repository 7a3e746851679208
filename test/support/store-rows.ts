/**
 * What a store holds physically, beneath the Store API (which shows each event once), as
 * JSON on stdout: a crash that wrote a batch twice shows here. Own process, as chDB binds
 * one data folder per process:
 *   node --import tsx test/support/store-rows.ts DATA_DIR
 */
import { openStore } from '@callmon/store';
import { openRawClient } from '@callmon/store/testing';

const [dataDir] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: store-rows.ts DATA_DIR\n');
  process.exit(2);
}
const store = await openStore({ dataDir });
const client = await openRawClient({ dataDir });
const one = async (query: string) => {
  const result = await client.query({ query, format: 'JSONEachRow' });
  return (await result.json<Record<string, string | number>>())[0]!;
};
try {
  const events = await one('SELECT count() AS rows, uniqExact(force, id) AS distinct FROM events');
  const rejected = await one(
    'SELECT count() AS rows, uniqExact(source_name, source_partition, source_offset) AS positions FROM rejected_events',
  );
  const reasons = await client.query({
    query: 'SELECT reason, count() AS n FROM rejected_events GROUP BY reason ORDER BY reason',
    format: 'JSONEachRow',
  });
  process.stdout.write(
    `${JSON.stringify({
      eventRows: Number(events.rows),
      distinctEvents: Number(events.distinct),
      rejectedRows: Number(rejected.rows),
      rejectedPositions: Number(rejected.positions),
      rejectedByReason: Object.fromEntries(
        (await reasons.json<{ reason: string; n: string | number }>()).map((r) => [
          r.reason,
          Number(r.n),
        ]),
      ),
    })}\n`,
  );
} finally {
  await client.close();
  await store.close();
}
