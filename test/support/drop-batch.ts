/**
 * What a crash leaves between the engine logging an insert's deduplication token and
 * putting its rows in place: the token known, the rows gone. Deletes the rows of the batch
 * that stored the event of line LINE of FILE (events and rejected inputs; a mutation
 * leaves the engine's record of the token as it was) and prints the batch's token and how
 * many rows it lost, as JSON. In its own process, since chDB binds one data folder per
 * process:
 *   node --import tsx test/support/drop-batch.ts DATA_DIR FILE LINE
 */
import { openRawClient } from '@callmon/store/testing';

const [dataDir, file, line] = process.argv.slice(2);
if (!dataDir || !file || !line) {
  process.stderr.write('usage: drop-batch.ts DATA_DIR FILE LINE\n');
  process.exit(2);
}
const raw = await openRawClient({ dataDir });
try {
  const query = async <T>(sql: string, params: Record<string, unknown>) =>
    (await raw.query({ query: sql, format: 'JSONEachRow', query_params: params })).json<T>();
  const [found] = await query<{ batch: string }>(
    `SELECT batch FROM events WHERE source_name = {file:String} AND source_offset = {line:UInt64} LIMIT 1`,
    { file, line: Number(line) },
  );
  if (found === undefined) throw new Error(`no event stored from line ${line} of ${file}`);
  const lost: Record<string, number> = {};
  for (const table of ['events', 'rejected_events']) {
    const [row] = await query<{ rows: number | string }>(
      `SELECT count() AS rows FROM ${table} WHERE batch = {batch:String}`,
      { batch: found.batch },
    );
    lost[table] = Number(row?.rows ?? 0);
    await raw.command({
      query: `ALTER TABLE ${table} DELETE WHERE batch = {batch:String} SETTINGS mutations_sync = 2`,
      query_params: { batch: found.batch },
    });
  }
  process.stdout.write(`${JSON.stringify({ batch: found.batch, ...lost })}\n`);
} finally {
  await raw.close();
}
