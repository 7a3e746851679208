import { parseEvent, REJECT_REASONS } from '@callmon/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectedRecord, SourcePosition } from './records.ts';
import { openTestStore, type TestStore } from './testing.ts';

let test: TestStore;

beforeAll(async () => {
  test = await openTestStore();
});

afterAll(async () => {
  await test?.cleanup();
});

const topic = (offset: number): SourcePosition => ({
  kind: 'kafka',
  name: 'callmon.events.v1',
  partition: 0,
  offset,
});

/** One input per parse reason of the contract, rejected as the ingest would. */
const inputs: Array<string | Uint8Array> = [
  new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid_encoding
  'x'.repeat(70_000), // too_large
  '{"v":1,', // invalid_json
  '[1,2]', // not_an_object
  '{"v":2,"id":"a","type":"call.closed","force":"nth","at":"2024-01-01T00:00:00Z","call":"c"}',
  '{"v":1,"id":"a","type":"call.teleported","force":"nth","at":"2024-01-01T00:00:00Z"}',
  '{"v":1,"id":"a","type":"call.closed","force":"nth","at":"2024-01-01T00:00:00Z"}',
  '{"v":1,"id":"a","type":"call.presented","force":"nth","at":"2024-01-01T00:00:00Z","call":"c","channel":999}',
];

function rejectAll(arrivedAt: number, firstOffset: number): RejectedRecord[] {
  return inputs.map((raw, index) => {
    const parsed = parseEvent(raw);
    if (parsed.ok) throw new Error(`fixture ${index} parsed`);
    const record: RejectedRecord = {
      raw,
      reason: parsed.reason,
      detail: parsed.detail,
      arrivedAt: arrivedAt + index,
      position: topic(firstOffset + index),
    };
    if (parsed.field !== undefined) record.field = parsed.field;
    return record;
  });
}

const records = rejectAll(1_700_000_000_000, 0);

beforeAll(async () => {
  await test.store.insertRejected(records, { dedupToken: 'kafka:0:0-7' });
});

describe('rejected inputs', () => {
  it('the fixtures cover every parse reason of the contract', () => {
    expect(new Set(records.map((record) => record.reason))).toEqual(new Set(REJECT_REASONS));
  });

  it('each is stored with its reason, detail, field, arrival and position', async () => {
    const listed = await test.store.listRejected({ limit: 100 });
    expect(listed).toHaveLength(records.length);
    listed.forEach((entry, index) => {
      const { raw, ...expected } = records[index]!;
      expect(entry).toEqual({ ...expected, raw: entry.raw, batch: 'kafka:0:0-7' });
    });
  });

  it('the raw input comes back byte for byte, even when it is not UTF-8', async () => {
    const listed = await test.store.listRejected({ limit: 100 });
    listed.forEach((entry, index) => {
      const raw = records[index]!.raw;
      expect(entry.raw.equals(typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw))).toBe(
        true,
      );
    });
  });

  it('filters by reason and arrival time, and pages with limit and offset', async () => {
    const json = await test.store.listRejected({ reason: 'invalid_json', limit: 10 });
    expect(json.map((entry) => entry.position.offset)).toEqual([2]);
    const window = await test.store.listRejected({
      from: 1_700_000_000_002,
      to: 1_700_000_000_005,
      limit: 10,
    });
    expect(window.map((entry) => entry.position.offset)).toEqual([2, 3, 4]);
    const page = await test.store.listRejected({ limit: 3, offset: 3 });
    expect(page.map((entry) => entry.position.offset)).toEqual([3, 4, 5]);
  });

  it('counts per reason', async () => {
    const counts = await test.store.countRejected();
    expect(counts).toEqual(new Map(REJECT_REASONS.map((reason) => [reason, 1])));
    expect(await test.store.countRejected({ reason: 'too_large' })).toEqual(
      new Map([['too_large', 1]]),
    );
  });

  it('a retried batch is stored once, and an input rejected again at the same position is listed once', async () => {
    await test.store.insertRejected(records, { dedupToken: 'kafka:0:0-7' });
    // A successor re-reads the same offsets in a differently shaped batch.
    await test.store.insertRejected(rejectAll(1_800_000_000_000, 0).slice(2, 5), {
      dedupToken: 'kafka:0:2-4',
    });
    const listed = await test.store.listRejected({ limit: 100 });
    expect(listed.map((entry) => entry.position.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(listed[2]!.arrivedAt).toBe(1_700_000_000_002);
    expect([...(await test.store.countRejected()).values()]).toEqual(REJECT_REASONS.map(() => 1));
  });

  it('identity outcomes carry the force, id and fingerprint', async () => {
    await test.store.insertRejected(
      [
        {
          raw: '{"v":1,"id":"d1","type":"call.closed","force":"nth","at":"2024-01-01T00:00:00Z","call":"c"}',
          reason: 'duplicate',
          detail: 'id d1 is already stored with the same content',
          force: 'nth',
          eventId: 'd1',
          fingerprint: ',1,"call.closed","nth","d1",1704067200000,,"c",,,,,,,,',
          arrivedAt: 1_900_000_000_000,
          position: { kind: 'file', name: 'replay.ndjson', partition: 0, offset: 12 },
        },
      ],
      { dedupToken: 'file:replay.ndjson:12' },
    );
    const [duplicate] = await test.store.listRejected({
      reason: 'duplicate',
      force: 'nth',
      limit: 1,
    });
    expect(duplicate).toMatchObject({ force: 'nth', eventId: 'd1', reason: 'duplicate' });
    expect(await test.store.listRejected({ force: 'other', limit: 10 })).toEqual([]);
  });
});
