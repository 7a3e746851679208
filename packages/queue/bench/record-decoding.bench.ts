/**
 * kafkajs's record decoding with callmon's patch (patches/kafkajs@2.2.4.patch) against
 * stock kafkajs's per-record path, in the same run, on the same bytes: record batches of
 * simulator-like events (≈ 170-byte values keyed by force) encoded by kafkajs's own
 * encoder, decoded by the record-batch decoder (patched) and by stock's loop (a
 * `readVarIntBytes` slice, a `Decoder` and `RecordDecoder` per record), alternating.
 *
 *   npx tsx packages/queue/bench/record-decoding.bench.ts [--records 300000] [--batch 5000] [--rounds 7]
 */
import { parseArgs } from 'node:util';
import {
  Decoder,
  decodeRecordBatch,
  Long,
  Record,
  RecordBatch,
  RecordDecoder,
} from '../src/kafkajs-internals.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    batch: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '7' },
  },
});
const total = Number(values.records);
const batchSize = Number(values.batch);
const rounds = Number(values.rounds);

const at = Date.UTC(2024, 1, 19);
const batches: Buffer[] = [];
for (let first = 0; first < total; first += batchSize) {
  const count = Math.min(batchSize, total - first);
  const records = Array.from({ length: count }, (_, delta) => {
    const n = first + delta;
    const value = `{"v":1,"id":"nor-${n}-a","type":"call.answered","force":"northants","at":"2024-02-19T00:01:42.780Z","call":"nor-${n}","handler":"h6","source":"sim"}`;
    return Record({
      offsetDelta: delta,
      timestampDelta: Long.fromValue(delta * 3),
      key: Buffer.from('northants'),
      value: Buffer.from(value),
    });
  });
  const encoded = await RecordBatch({
    firstOffset: Long.fromValue(first),
    firstTimestamp: Long.fromValue(at),
    maxTimestamp: Long.fromValue(at + count * 3),
    lastOffsetDelta: count - 1,
    records,
  });
  batches.push(encoded.buffer);
}

/** The patched decoder, as the consumer runs it: every batch, every record. */
async function patched(): Promise<number> {
  let decoded = 0;
  for (const bytes of batches)
    decoded += (await decodeRecordBatch(new Decoder(bytes))).records.length;
  return decoded;
}

/** Stock kafkajs's record loop on the same batches (header fields read as the decoder does). */
function stock(): number {
  let decoded = 0;
  for (const bytes of batches) {
    const batch = new Decoder(bytes);
    const firstOffset = batch.readInt64().toString();
    const length = batch.readInt32();
    const body = batch.slice(length);
    body.readInt32(); // partition leader epoch
    body.readInt8(); // magic
    body.readInt32(); // crc
    body.readInt16(); // attributes
    body.readInt32(); // last offset delta
    const firstTimestamp = body.readInt64().toString();
    const maxTimestamp = body.readInt64().toString();
    body.readInt64(); // producer id
    body.readInt16(); // producer epoch
    body.readInt32(); // first sequence
    const context = { firstOffset, firstTimestamp, maxTimestamp, magicByte: 2 };
    const records = body.readArray((decoder: typeof body) =>
      RecordDecoder(new Decoder(decoder.readVarIntBytes()), context),
    );
    decoded += records.length;
  }
  return decoded;
}

const times: Record<'patched' | 'stock', number[]> = { patched: [], stock: [] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (['patched', 'stock'] as const) : (['stock', 'patched'] as const);
  for (const side of order) {
    const started = performance.now();
    const decoded = side === 'patched' ? await patched() : stock();
    times[side].push(performance.now() - started);
    if (decoded !== total) throw new Error(`${side} decoded ${decoded} of ${total} records`);
  }
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
const ns = (ms: number) => ((ms * 1e6) / total).toFixed(0);
console.log(
  `${total} records in batches of ${batchSize}, ${rounds} rounds alternating; node ${process.version}`,
);
for (const side of ['stock', 'patched'] as const) {
  console.log(
    `${side.padEnd(8)} median ${median(times[side]).toFixed(1)} ms (${ns(median(times[side]))} ns a record), min ${Math.min(...times[side]).toFixed(1)} ms`,
  );
}
console.log(
  `patched / stock (medians): ${(median(times.patched) / median(times.stock)).toFixed(2)}`,
);
