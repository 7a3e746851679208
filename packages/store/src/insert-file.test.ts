import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { eventFingerprint } from '@callmon/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, recordsFromLines, type TestStore } from './testing.ts';

/**
 * The embedded insert writes each batch as a RowBinary file: strings carry a LEB128
 * byte length, which the writer takes three code paths to produce (short ASCII, up to
 * 16 KiB, longer), and integers are split into 32-bit halves. Every path, read back.
 */

let test: TestStore;

beforeAll(async () => {
  test = await openTestStore();
});

afterAll(async () => {
  await test?.cleanup();
});

const force = 'rowbinary';

function line(id: string, call: string, at: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    id,
    type: 'call.presented',
    force,
    at,
    call,
    channel: '999',
    ...extra,
  });
}

const lines = [
  // 40 and 41 ASCII characters: either side of the writer's short-string loop.
  line('a'.repeat(40), 'c1', '2024-02-20T00:00:00Z', { queue: 'q'.repeat(41) }),
  // Non-ASCII in a short string: falls back from the ASCII loop.
  line('ü-1', 'c1', '2024-02-20T00:00:01Z', { handler: 'Zoë', unit: '☎' }),
  // 128 three-byte characters (384 bytes): a two-byte length.
  line('€'.repeat(128), 'c1', '2024-02-20T00:00:02Z', { source: '€'.repeat(128) }),
  // 42 code units, 40 of them two-byte: a one-byte length after all.
  line('é'.repeat(40) + 'xy', 'c1', '2024-02-20T00:00:03Z'),
  // A raw line over 16 KiB: the general path (Buffer.byteLength).
  line('long', 'c1', '2024-02-20T00:00:04Z', { note: 'n'.repeat(20_000), more: 'ß'.repeat(500) }),
  // Negative epoch milliseconds and the far end of the contract's range.
  line('year-1', 'c1', '0001-01-01T00:00:00.001Z'),
  line('year-9999', 'c1', '9999-12-31T23:59:59.999Z'),
  // A grade, an astral-plane character (a surrogate pair in JS).
  JSON.stringify({
    v: 1,
    id: 'g1',
    type: 'incident.opened',
    force,
    at: '2024-02-20T00:00:05Z',
    incident: 'i-😀',
    grade: 4,
    area: 'rural',
    call: 'c1',
  }),
];

describe('embedded inserts through a RowBinary batch file', () => {
  it('every string and integer reads back exactly', async () => {
    const records = recordsFromLines(
      lines,
      { kind: 'kafka', name: 'tópic', partition: 4_000_000_000, firstOffset: 2 ** 40 },
      -1,
    );
    // The caller's fingerprint is stored as given; a record without one gets it computed.
    records[0]!.fingerprint = eventFingerprint(records[0]!.event);
    // The caller's UTF-8 bytes of the raw line are copied as they are (short and long).
    for (const index of [1, 2, 4]) records[index]!.rawBytes = Buffer.from(records[index]!.raw);
    await test.store.insertEvents(records, { dedupToken: 'rb-1' });
    const stored = await test.store.eventsOfCall(force, 'c1');
    expect(stored).toHaveLength(records.length);
    const byId = new Map(stored.map((entry) => [entry.event.id, entry]));
    for (const record of records) {
      const entry = byId.get(record.event.id)!;
      expect(entry.event).toEqual(record.event);
      expect(entry.raw).toBe(record.raw);
      expect(entry.fingerprint).toBe(eventFingerprint(record.event));
      expect(entry.arrivedAt).toBe(-1);
      expect(entry.position).toEqual(record.position);
      expect(entry.batch).toBe('rb-1');
    }
  });

  it('leaves no batch file behind', async () => {
    if (!('dataDir' in test.options)) return;
    expect(await readdir(join(test.options.dataDir, 'insert-batches'))).toEqual([]);
  });
});
