/**
 * The engine's share of an embedded ingest, alone: an NDJSON file cut into RowBinary
 * batch files as the store writes them (50,000 rows each by default), then each file
 * inserted with the store's statement (`INSERT … SETTINGS <token> … SELECT … FROM
 * file()`) into a fresh folder with the store's schema. No JS parsing, look-ups or
 * pipeline run while the inserts do, so the CPU time is the engine's plus a little of
 * the awaiting JS thread.
 *
 *   npx tsx packages/store/bench/insert-files.bench.ts FILE [rows per batch=50000] [--wide]
 *
 * `--wide` sets `min_level_for_wide_part = 0` after the migrations (the schema before
 * migration 0005), for an A/B in alternating runs.
 *
 * Per-thread CPU is sampled from /proc every 100 ms and each sample's increase charged to
 * the name the thread had then: chDB's pool threads take a query's name (QueryPipelineEx,
 * …) while they run it and are named ThreadPool otherwise, so summing each thread's
 * final total under every name it was seen with counts the same CPU twice.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EVENT_FILE_COLUMNS,
  EVENT_FILE_SELECT,
  EVENT_FILE_STRUCTURE,
  writeEventRow,
} from '../src/records.ts';
import { RowBinaryWriter } from '../src/row-binary.ts';
import { openStore } from '../src/store.ts';
import { openRawClient, recordsFromLines } from '../src/testing.ts';

const args = process.argv.slice(2).filter((arg) => arg !== '--wide');
const wide = process.argv.includes('--wide');
const input = args[0];
if (input === undefined) throw new Error('usage: insert-files.bench.ts FILE [rows] [--wide]');
const rowsPerBatch = Number(args[1] ?? 50_000);

const work = await mkdtemp(join(tmpdir(), 'callmon-insert-files-'));
const dataDir = join(work, 'data');
const batches: string[] = [];
{
  const lines = readFileSync(input, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out = new RowBinaryWriter();
  for (let start = 0; start < lines.length; start += rowsPerBatch) {
    const records = recordsFromLines(
      lines.slice(start, start + rowsPerBatch),
      { kind: 'file', name: input, partition: 0, firstOffset: start + 1 },
      Date.now(),
    );
    out.reset();
    for (const record of records) writeEventRow(out, record);
    const file = join(work, `batch-${batches.length}.rowbinary`);
    writeFileSync(file, out.bytes);
    batches.push(file);
  }
}

const store = await openStore({ dataDir });
const client = await openRawClient({ dataDir });
if (wide) {
  await client.command({ query: 'ALTER TABLE events MODIFY SETTING min_level_for_wide_part = 0' });
}

/** Each thread's utime + stime (ms) and its name now. */
function threadTimes(): Map<string, { name: string; ms: number }> {
  const times = new Map<string, { name: string; ms: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      times.set(tid, { name, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch {
      // the thread ended between listing and reading
    }
  }
  return times;
}
const byName = new Map<string, number>();
let last = threadTimes();
const sample = () => {
  const now = threadTimes();
  for (const [tid, { name, ms }] of now) {
    const added = ms - (last.get(tid)?.ms ?? 0);
    if (added > 0) byName.set(name, (byName.get(name) ?? 0) + added);
  }
  last = now;
};
const sampler = setInterval(sample, 100);

const cpuBefore = process.cpuUsage();
const began = performance.now();
for (const [index, file] of batches.entries()) {
  const token = `insert-files-${index}`;
  await client.command({
    query:
      `INSERT INTO events (${EVENT_FILE_COLUMNS}) SETTINGS insert_deduplicate = 1, ` +
      `insert_deduplication_token = '${token}', ` +
      "deduplicate_insert_select = 'force_enable', max_partitions_per_insert_block = 0 " +
      `SELECT ${EVENT_FILE_SELECT}, '${token}' ` +
      `FROM file('${file}', 'RowBinary', '${EVENT_FILE_STRUCTURE}')`,
  });
}
const insertMs = performance.now() - began;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
sample();

const [parts] = await (
  await client.query({
    query: `SELECT count() AS parts, sum(rows) AS rows, countIf(part_type = 'Wide') AS wide
            FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active`,
    format: 'JSONEachRow',
  })
).json<{ parts: number | string; rows: number | string; wide: number | string }>();
await client.close();
await store.close();
await rm(work, { recursive: true, force: true });

const threads = [...byName]
  .filter(([, ms]) => ms >= 10)
  .sort((a, b) => b[1] - a[1])
  .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`)
  .join(', ');
console.log(
  `${wide ? 'wide ' : 'as migrated'} ${batches.length} inserts of ≤ ${rowsPerBatch} rows: ` +
    `${(insertMs / 1000).toFixed(2)} s, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s ` +
    `(${threads}); ${parts?.parts} parts (${parts?.wide} Wide), ${parts?.rows} rows`,
);
