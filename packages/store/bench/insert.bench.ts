/**
 * Insert throughput into chDB: 1,000,000 generated events written through the Store
 * (a RowBinary batch file built in JS and read by the engine with `file()`, batches of
 * 10,000 with a dedup token each), against chDB
 * loading the same NDJSON file natively (`INSERT … SELECT … FROM file(…, 'LineAsString')`)
 * into an identical table, in the same process and data folder. Then the reads the
 * ingest and audit depend on, at that size.
 *
 *   npx tsx packages/store/bench/insert.bench.ts [events=1000000] [batch=10000]
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallmonEvent } from '@callmon/events';
import {
  EVENT_FILE_COLUMNS,
  EVENT_FILE_SELECT,
  EVENT_FILE_STRUCTURE,
  type EventRecord,
  eventRowLine,
  writeEventRow,
} from '../src/records.ts';
import { RowBinaryWriter } from '../src/row-binary.ts';
import { openStore } from '../src/store.ts';
import { generateEvents, openRawClient, toWire } from '../src/testing.ts';

const total = Number(process.argv[2] ?? 1_000_000);
const batchSize = Number(process.argv[3] ?? 10_000);
const forces = ['northants', 'cumbria', 'dyfed-powys', 'met'];
const start = Date.UTC(2024, 0, 1);
const arrivedAt = Date.UTC(2024, 6, 1);

const folder = await mkdtemp(join(tmpdir(), 'callmon-bench-'));
const file = join(folder, 'events.ndjson');

// Fixtures: four forces interleaved, as one Kafka topic would carry them.
const perForce = forces.map((force, index) =>
  generateEvents({ force, start, count: Math.ceil(total / forces.length), seed: index + 1 }),
);
const events: CallmonEvent[] = [];
while (events.length < total) {
  for (const stream of perForce) {
    const next = stream.next();
    if (!next.done && events.length < total) events.push(next.value);
  }
}
const lines = events.map((event) => JSON.stringify(toWire(event)));
await writeFile(file, `${lines.join('\n')}\n`);
const records: EventRecord[] = events.map((event, index) => ({
  event,
  raw: lines[index]!,
  arrivedAt,
  position: { kind: 'file', name: file, partition: 0, offset: index + 1 },
}));

const store = await openStore({ dataDir: join(folder, 'chdb') });
const raw = await openRawClient({ dataDir: join(folder, 'chdb') });
const rows = async <T>(query: string, query_params?: Record<string, unknown>) =>
  (await raw.query({ query, format: 'JSONEachRow', query_params })).json<T>();

function report(label: string, count: number, ms: number): void {
  const rate = Math.round((count / ms) * 1000);
  console.log(
    `${label.padEnd(58)} ${ms.toFixed(0).padStart(7)} ms  ${rate.toLocaleString('en-GB').padStart(10)} rows/s`,
  );
}

console.log(
  `chDB ${(await rows<{ v: string }>('SELECT version() AS v'))[0]!.v}, ${total.toLocaleString('en-GB')} events, batches of ${batchSize.toLocaleString('en-GB')}`,
);

// 0. JS-side encoding alone, to separate it from the engine's share: RowBinary (the
// embedded path) and JSONCompactEachRow (the server path).
let t = performance.now();
let bytes = 0;
const writer = new RowBinaryWriter();
for (let first = 0; first < total; first += batchSize) {
  writer.reset();
  for (const record of records.slice(first, first + batchSize)) writeEventRow(writer, record);
  bytes += writer.bytes.length;
}
report(
  `JS encode only (${(bytes / 2 ** 20).toFixed(0)} MiB RowBinary)`,
  total,
  performance.now() - t,
);
t = performance.now();
bytes = 0;
for (const record of records) bytes += eventRowLine(record, 'x').length + 1;
report(
  `JS encode only (${(bytes / 2 ** 20).toFixed(0)} MiB JSONCompactEachRow, server mode)`,
  total,
  performance.now() - t,
);

// 1. Through the Store.
t = performance.now();
for (let first = 0; first < total; first += batchSize) {
  const batch = records.slice(first, first + batchSize);
  await store.insertEvents(batch, {
    dedupToken: `file:${file}:${first + 1}-${first + batch.length}`,
  });
}
const storeMs = performance.now() - t;
report('Store.insertEvents (RowBinary file, INSERT … SELECT FROM file())', total, storeMs);

// 1b. The same batch files into an ENGINE = Null copy of the table: encoding and the
// engine's reading of them, without MergeTree's sorting, compression, indexes and merges.
await raw.command({ query: 'CREATE TABLE events_parse_only AS events ENGINE = Null' });
const batchFile = join(folder, 'batch.rowbinary');
t = performance.now();
for (let first = 0; first < total; first += batchSize) {
  writer.reset();
  for (const record of records.slice(first, first + batchSize)) writeEventRow(writer, record);
  writeFileSync(batchFile, writer.bytes);
  await raw.command({
    query: `INSERT INTO events_parse_only (${EVENT_FILE_COLUMNS}) SELECT ${EVENT_FILE_SELECT}, 'x'
      FROM file('${batchFile}', 'RowBinary', '${EVENT_FILE_STRUCTURE}')`,
  });
}
report('same batch files into ENGINE = Null (encode + parse only)', total, performance.now() - t);

// 2. chDB native: same table definition, the file parsed inside the engine.
await raw.command({ query: 'CREATE TABLE events_native AS events' });
const fields =
  'Tuple(v UInt8, id String, type String, force String, at String, source Nullable(String), call Nullable(String), channel Nullable(String), queue Nullable(String), handler Nullable(String), incident Nullable(String), grade Nullable(UInt8), area Nullable(String), district Nullable(String), unit Nullable(String))';
const json = (name: string) =>
  `if(isNull(e.${name}), ',', concat(',', toJSONString(assumeNotNull(e.${name}))))`;
t = performance.now();
await raw.command({
  query: `INSERT INTO events_native
      (force, id, type, at, v, source, call, channel, queue, handler, incident, grade, area, district, unit,
       fingerprint, raw, arrived_at, source_kind, source_name, source_partition, source_offset, batch)
    SELECT e.force, e.id, e.type, at, e.v, e.source, e.call, e.channel, e.queue, e.handler, e.incident,
       e.grade, e.area, e.district, e.unit,
       concat(',', toString(e.v), ',', toJSONString(e.type), ',', toJSONString(e.force), ',', toJSONString(e.id),
              ',', toString(toUnixTimestamp64Milli(at)), ${['source', 'call', 'channel', 'queue', 'handler', 'incident'].map(json).join(', ')},
              if(isNull(e.grade), ',', concat(',', toString(e.grade))), ${['area', 'district', 'unit'].map(json).join(', ')}),
       line, fromUnixTimestamp64Milli(toInt64(${arrivedAt}), 'UTC'), 'file', '${file}', 0, n, 'native'
    FROM
    (
        SELECT line, rowNumberInAllBlocks() + 1 AS n, JSONExtract(line, '${fields}') AS e,
               parseDateTime64BestEffort(e.at, 3, 'UTC') AS at
        FROM file('${file}', 'LineAsString')
    )
    SETTINGS max_partitions_per_insert_block = 0`,
});
const nativeMs = performance.now() - t;
report("chDB native INSERT … SELECT FROM file(…, 'LineAsString')", total, nativeMs);
console.log(`Store / native time: ${(storeMs / nativeMs).toFixed(2)}×`);

const [check] = await rows<{ same: number | string }>(
  `SELECT count() AS same FROM events AS s INNER JOIN events_native AS n USING (force, id)
   WHERE s.fingerprint = n.fingerprint AND s.at = n.at AND s.raw = n.raw`,
);
console.log(
  `rows identical in both tables (fingerprint, at, raw): ${Number(check!.same).toLocaleString('en-GB')}`,
);

// 3. Reads at this size.
async function timed<T>(label: string, work: () => Promise<T>, describe: (value: T) => string) {
  const begin = performance.now();
  const value = await work();
  console.log(
    `${label.padEnd(58)} ${(performance.now() - begin).toFixed(0).padStart(7)} ms  ${describe(value)}`,
  );
}
const sample = events.filter((event) => event.force === 'met');
const ids = sample
  .filter((_, index) => index % 25 === 0)
  .slice(0, batchSize)
  .map((event) => event.id);
await timed(
  `knownCopies(met, ${ids.length} ids, all known)`,
  () => store.knownCopies('met', ids),
  (known) => `${known.size} found`,
);
const fresh = ids.map((id) => `${id}-new`);
await timed(
  `knownCopies(met, ${fresh.length} ids, none known)`,
  () => store.knownCopies('met', fresh),
  (known) => `${known.size} found`,
);
await timed(
  'countEvents()',
  () => store.countEvents(),
  (n) => `${n}`,
);
await timed(
  'readEvents(met, first day)',
  () => store.readEvents({ force: 'met', from: start, to: start + 86_400_000 }),
  (list) => `${list.length} events`,
);
const presented = sample.filter((event) => event.type === 'call.presented');
const call = presented[Math.floor(presented.length / 2)]!;
await timed(
  'eventsOfCall(met, …)',
  () => store.eventsOfCall('met', 'call' in call ? call.call : ''),
  (list) => `${list.length} copies`,
);
const [size] = await rows<{ parts: number; disk: string }>(
  "SELECT count() AS parts, formatReadableSize(sum(bytes_on_disk)) AS disk FROM system.parts WHERE active AND table = 'events'",
);
console.log(`events table: ${size!.parts} parts, ${size!.disk} on disk`);

await raw.close();
await store.close();
await rm(folder, { recursive: true, force: true });
