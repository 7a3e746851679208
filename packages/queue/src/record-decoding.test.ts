import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Batch,
  Compression,
  Decoder,
  decodeRecordBatch,
  kafkajsMain,
  Long,
  Record,
  RecordBatch,
} from './kafkajs-internals.ts';
import { copyMessageValue, messageOffset, messageValueLength } from './message-bytes.ts';

/**
 * kafkajs decodes every record it fetches through patches/kafkajs@2.2.4.patch (one pass
 * over the batch, offsets and timestamps as numbers, the original decoder for anything
 * outside that). These tests encode record batches with kafkajs's own encoder and check
 * that the consumer's decoder gives back exactly what was encoded: the expected offsets
 * and timestamps are computed here with BigInt from the batch's inputs, not by kafkajs.
 */
interface Input {
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

interface DecodedRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  isControlRecord: boolean;
}

async function roundTrip(
  firstOffset: bigint,
  firstTimestamp: bigint,
  inputs: Input[],
  compression = Compression.None,
): Promise<DecodedRecord[]> {
  const records = inputs.map((input, offsetDelta) =>
    Record({
      offsetDelta,
      timestampDelta: Long.fromValue(BigInt(input.timestampDelta)),
      key: input.key,
      value: input.value,
      headers: input.headers,
    }),
  );
  const encoded = await RecordBatch({
    compression,
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: Long.fromValue(firstTimestamp),
    maxTimestamp: Long.fromValue(firstTimestamp),
    lastOffsetDelta: Math.max(0, inputs.length - 1),
    records,
  });
  const batch = await decodeRecordBatch(new Decoder(encoded.buffer));
  return batch.records;
}

/** Headers with their values as hex, to compare by content. */
const hexHeaders = (headers: Record<string, Buffer | Buffer[]>) =>
  Object.fromEntries(
    Object.entries(headers).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.map((part) => part.toString('hex')) : value.toString('hex'),
    ]),
  );

function expectRecords(
  decoded: DecodedRecord[],
  firstOffset: bigint,
  firstTimestamp: bigint,
  inputs: Input[],
): void {
  expect(decoded).toHaveLength(inputs.length);
  inputs.forEach((input, index) => {
    const record = decoded[index]!;
    expect(record.offset).toBe((firstOffset + BigInt(index)).toString());
    expect(record.timestamp).toBe((firstTimestamp + BigInt(input.timestampDelta)).toString());
    expect(record.key === null ? null : [...record.key]).toEqual(
      input.key === null ? null : [...input.key],
    );
    expect(record.value === null ? null : [...record.value]).toEqual(
      input.value === null ? null : [...input.value],
    );
    expect(hexHeaders(record.headers)).toEqual(hexHeaders(input.headers));
    expect(record.magicByte).toBe(2);
    expect(record.attributes).toBe(0);
    expect(record.isControlRecord).toBe(false);
  });
}

const bytes = fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array));
const input: fc.Arbitrary<Input> = fc.record({
  timestampDelta: fc.oneof(fc.integer({ min: -5_000_000, max: 5_000_000 }), fc.constant(0)),
  key: fc.option(bytes, { nil: null }),
  value: fc.option(bytes, { nil: null }),
  headers: fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        // Not names of Object.prototype: kafkajs folds headers into a plain object.
        fc.stringMatching(/^x-[a-z]{1,6}$/),
        fc.oneof(bytes, fc.array(bytes, { minLength: 2, maxLength: 3 })),
        { maxKeys: 3 },
      ),
    },
  ),
});

describe('record decoding (kafkajs with the callmon patch)', () => {
  it('is the patched kafkajs that is installed', () => {
    expect(kafkajsMain).toMatch(/kafkajs@2\.2\.4_patch_hash=/);
  });

  it('gives back every record as encoded: offsets, timestamps, keys, values, headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.bigInt({ min: 0n, max: 10n ** 12n }),
          // Beyond what a double holds exactly: decoded the original way.
          fc.bigInt({ min: 2n ** 53n - 100n, max: 2n ** 62n }),
        ),
        fc.oneof(fc.bigInt({ min: 1_600_000_000_000n, max: 1_900_000_000_000n }), fc.constant(-1n)),
        fc.array(input, { minLength: 0, maxLength: 40 }),
        async (firstOffset, firstTimestamp, inputs) => {
          const decoded = await roundTrip(firstOffset, firstTimestamp, inputs);
          expectRecords(decoded, firstOffset, firstTimestamp, inputs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes compressed batches the same', async () => {
    const inputs: Input[] = Array.from({ length: 50 }, (_, index) => ({
      timestampDelta: index * 7 - 100,
      key: Buffer.from(`force-${index % 3}`),
      value: Buffer.from(JSON.stringify({ v: 1, id: `e${index}`, at: 1_700_000_000_000 + index })),
      headers: index % 10 === 0 ? ({ trace: Buffer.from(String(index)) } as Input['headers']) : {},
    }));
    const decoded = await roundTrip(1_234_567n, 1_700_000_000_000n, inputs, Compression.GZIP);
    expectRecords(decoded, 1_234_567n, 1_700_000_000_000n, inputs);
  });

  it('keys and values share the fetched bytes, as kafkajs hands them over', async () => {
    const inputs: Input[] = [
      { timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: {} },
      { timestampDelta: 5, key: null, value: Buffer.from('value two'), headers: {} },
    ];
    const [first, second] = await roundTrip(40n, 1_700_000_000_000n, inputs);
    expect(first!.value!.buffer).toBe(second!.value!.buffer);
    expect(first!.key!.toString()).toBe('k1');
  });
  it('reads the key, value and headers of a record when asked, and takes what is set on them', async () => {
    const inputs: Input[] = [
      { timestampDelta: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: {} },
    ];
    const [record] = await roundTrip(7n, 1_700_000_000_000n, inputs);
    // The same objects every time they are read, as plain fields would be.
    expect(record!.value).toBe(record!.value);
    expect(record!.key).toBe(record!.key);
    expect(record!.headers).toBe(record!.headers);
    record!.value = Buffer.from('replaced');
    record!.headers = { trace: Buffer.from('t') };
    expect(record!.value.toString()).toBe('replaced');
    expect(Object.keys(record!.headers)).toEqual(['trace']);
  });

  it('prints offsets and timestamps only when read, and takes what is set on them', async () => {
    const [record] = await roundTrip(7n, 1_700_000_000_000n, [
      { timestampDelta: 3, key: null, value: Buffer.from('v'), headers: {} },
    ]);
    expect(record!.offset).toBe('7');
    expect(record!.timestamp).toBe('1700000000003');
    record!.offset = '8';
    record!.timestamp = '1';
    record!.magicByte = 1;
    record!.isControlRecord = true;
    expect([record!.offset, record!.timestamp, record!.magicByte, record!.isControlRecord]).toEqual(
      ['8', '1', 1, true],
    );
  });
});

/** packages/queue's readers of a message (message-bytes.ts), on records as decoded. */
describe('message offsets and values read without strings or slices', () => {
  /** What each reader gives, next to what kafkajs's own fields say. */
  const readers = (record: DecodedRecord) => {
    const message = record as unknown as Parameters<typeof copyMessageValue>[0];
    const length = messageValueLength(message);
    const target = Buffer.alloc(length + 4, 0xee);
    const copied = copyMessageValue(message, target, 2);
    return {
      offset: messageOffset(message),
      length,
      copied,
      bytes: [...target.subarray(2, 2 + copied)],
      untouched: target[0] === 0xee && target[1] === 0xee && target[2 + copied] === 0xee,
    };
  };
  const expected = (record: DecodedRecord) => ({
    offset: Number(record.offset),
    length: record.value?.length ?? 0,
    copied: record.value?.length ?? 0,
    bytes: record.value === null ? [] : [...record.value],
    untouched: true,
  });

  it("give each record's own offset and value bytes, however it was decoded", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 2n ** 50n }),
        fc.array(input, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        async (firstOffset, inputs, gzip) => {
          const decoded = await roundTrip(
            firstOffset,
            1_700_000_000_000n,
            inputs,
            gzip ? Compression.GZIP : Compression.None,
          );
          decoded.forEach((record, index) => {
            const read = readers(record);
            expect(read.offset).toBe(Number(firstOffset) + index);
            const value = inputs[index]!.value;
            expect(read.bytes).toEqual(value === null ? [] : [...value]);
            expect(read).toEqual(expected(record));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('follow an offset or value set on the record, and values longer than a kilobyte', async () => {
    const long = Buffer.alloc(5000, 0x61);
    const [first, second] = await roundTrip(10n, 1_700_000_000_000n, [
      { timestampDelta: 0, key: null, value: Buffer.from('first'), headers: {} },
      { timestampDelta: 0, key: null, value: long, headers: {} },
    ]);
    expect(readers(second!)).toEqual(expected(second!));
    expect(readers(second!).length).toBe(5000);
    first!.value = Buffer.from('set later');
    first!.offset = '99';
    expect(readers(first!)).toEqual({ ...expected(first!), offset: 99 });
    expect(Buffer.from(readers(first!).bytes).toString()).toBe('set later');
    first!.value = null;
    expect(readers(first!)).toMatchObject({ length: 0, copied: 0, bytes: [] });
  });

  it('read plain message objects as kafkajs describes them', () => {
    const plain = { offset: '12', value: Buffer.from('abc') } as unknown as DecodedRecord;
    expect(readers(plain)).toEqual({
      offset: 12,
      length: 3,
      copied: 3,
      bytes: [97, 98, 99],
      untouched: true,
    });
  });
});

/** What kafkajs's consumer makes of a partition's fetch (consumer/batch.js, patched). */
describe('a fetched batch (kafkajs with the callmon patch)', () => {
  const fetched = async (firstOffset: bigint, count: number) =>
    roundTrip(
      firstOffset,
      1_700_000_000_000n,
      Array.from({ length: count }, (_, index) => ({
        timestampDelta: index,
        key: null,
        value: Buffer.from(`value ${index}`),
        headers: {},
      })),
    );
  const offsets = (batch: { messages: DecodedRecord[] }) =>
    batch.messages.map((message) => message.offset);

  it('leaves out the messages before the offset fetched from', async () => {
    // A compressed batch is returned whole, from its first offset, even when the fetch
    // asked for one in its middle.
    const messages = await fetched(100n, 5);
    const batch = new Batch('topic', '102', { partition: 0, highWatermark: '105', messages });
    expect(offsets(batch)).toEqual(['102', '103', '104']);
    expect(batch.firstOffset()).toBe('102');
  });

  it('keeps every message when the fetch starts at the first', async () => {
    const messages = await fetched(100n, 3);
    const batch = new Batch('topic', '100', { partition: 0, highWatermark: '103', messages });
    expect(offsets(batch)).toEqual(['100', '101', '102']);
  });

  it('leaves out control records', async () => {
    const messages = await fetched(100n, 3);
    messages[1]!.isControlRecord = true;
    const batch = new Batch('topic', '100', { partition: 0, highWatermark: '103', messages });
    expect(offsets(batch)).toEqual(['100', '102']);
  });

  it('compares offsets beyond 2^53 exactly', async () => {
    const first = 2n ** 60n;
    const messages = await fetched(first, 3);
    const from = (first + 1n).toString();
    const batch = new Batch('topic', from, { partition: 0, highWatermark: '0', messages });
    expect(offsets(batch)).toEqual([from, (first + 2n).toString()]);
  });
});
