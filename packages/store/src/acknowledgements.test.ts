import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcknowledgementRecord, acknowledgementPrecedes } from './acknowledgements.ts';
import { openStore } from './store.ts';
import { openTestStore, type TestStore } from './testing.ts';

let test: TestStore;

beforeAll(async () => {
  test = await openTestStore();
});
afterAll(async () => {
  await test?.cleanup();
});

const T0 = Date.parse('2024-02-19T21:00:00.000Z');
let sequence = 0;

/** A press of a fresh alert (or of `alert`), at `at`. */
function press(fields: Partial<AcknowledgementRecord> & { at: number }): AcknowledgementRecord {
  const item = `c${++sequence}`;
  return {
    force: 'northants',
    alert: `breach:call.unanswered:${item}:${fields.at - 5000}`,
    kind: 'breach',
    rule: 'call.unanswered',
    item,
    subject: 'sgt.one',
    role: 'supervisor',
    node: 'api-1:100',
    ...fields,
  };
}

describe('acknowledgements in the store', () => {
  it('are read back as recorded, by force and time range, oldest first', async () => {
    const force = 'ack-range';
    const records = [0, 1000, 2000, 3000].map((offset) =>
      press({ force, at: T0 + offset, subject: `s${offset}` }),
    );
    // Recorded out of order: the order of the answer is the store's, by time.
    for (const record of [...records].reverse()) await test.store.recordAcknowledgement(record);
    await test.store.recordAcknowledgement(press({ force: 'ack-other', at: T0 + 1000 }));
    expect(await test.store.listAcknowledgements({ force, limit: 10 })).toEqual(records);
    expect(
      await test.store.listAcknowledgements({ force, from: T0 + 1000, to: T0 + 3000, limit: 10 }),
    ).toEqual(records.slice(1, 3));
    expect(await test.store.listAcknowledgements({ force, limit: 2 })).toEqual(records.slice(0, 2));
    expect(await test.store.listAcknowledgements({ force, limit: 2, keep: 'newest' })).toEqual(
      records.slice(2),
    );
    const both = await test.store.listAcknowledgements({
      force: [force, 'ack-other'],
      limit: 10,
    });
    expect(both.map((record) => record.force).sort()).toEqual([
      'ack-other',
      force,
      force,
      force,
      force,
    ]);
  });

  it('the first press of an alert stands, in every range that holds it and in none that does not', async () => {
    const force = 'ack-first';
    const first = press({ force, at: T0 + 10_000, subject: 'zed', node: 'api-2:7' });
    const later = { ...first, at: T0 + 10_500, subject: 'amy', node: 'api-1:9' };
    await test.store.recordAcknowledgement(later);
    await test.store.recordAcknowledgement(first);
    expect(await test.store.listAcknowledgements({ force, limit: 10 })).toEqual([first]);
    // Asked for every press (a node's poll weighs them itself), both come, by time.
    expect(await test.store.listAcknowledgements({ force, limit: 10, every: true })).toEqual([
      first,
      later,
    ]);
    expect(
      await test.store.listAcknowledgements({ force, from: T0 + 10_200, limit: 10, every: true }),
    ).toEqual([later]);
    // A range that holds only the later press: it does not stand, so nothing is listed.
    expect(await test.store.listAcknowledgements({ force, from: T0 + 10_200, limit: 10 })).toEqual(
      [],
    );
    expect(
      await test.store.listAcknowledgements({
        force,
        from: T0 + 9_000,
        to: T0 + 10_200,
        limit: 10,
      }),
    ).toEqual([first]);
  });

  it('presses at the same millisecond: subject, then node, then role decides, as in memory', async () => {
    const force = 'ack-tie';
    const base = press({ force, at: T0 + 20_000 });
    // Chosen so that any other order of the three keys would pick another press.
    const presses = [
      { ...base, subject: 'sgt.b', node: 'api-1:1', role: 'admin' },
      { ...base, subject: 'sgt.a', node: 'api-3:1', role: 'inspector' },
      { ...base, subject: 'sgt.a', node: 'api-2:1', role: 'supervisor' },
    ];
    await Promise.all(presses.map((record) => test.store.recordAcknowledgement(record)));
    const expected = presses.reduce((best, record) =>
      acknowledgementPrecedes(record, best) ? record : best,
    );
    expect(expected).toEqual(presses[2]);
    expect(await test.store.listAcknowledgements({ force, limit: 10 })).toEqual([expected]);
  });

  it('many simultaneous presses of one alert from several nodes: exactly one stands', async () => {
    const force = 'ack-race';
    const base = press({ force, at: T0 + 30_000 });
    const presses = Array.from({ length: 20 }, (_, i) => ({
      ...base,
      at: base.at + (i % 4),
      subject: `sgt.${(i * 7) % 5}`,
      node: `api-${i % 3}:1`,
    }));
    await Promise.all(presses.map((record) => test.store.recordAcknowledgement(record)));
    const standing = await test.store.listAcknowledgements({ force, limit: 100 });
    expect(standing).toHaveLength(1);
    const expected = presses.reduce((best, record) =>
      acknowledgementPrecedes(record, best) ? record : best,
    );
    expect(standing[0]).toEqual(expected);
  });

  it('survive closing and reopening the store on the same data', async () => {
    const force = 'ack-durable';
    const record = press({ force, at: T0 + 40_000 });
    await test.store.recordAcknowledgement(record);
    await test.store.close();
    test.store = await openStore(test.options);
    expect(await test.store.listAcknowledgements({ force, limit: 10 })).toEqual([record]);
  });
});

describe('acknowledgementPrecedes', () => {
  it('orders by time, then subject, node and role in byte order', () => {
    const a = { at: 1, subject: 'b', node: 'n', role: 'r' };
    expect(acknowledgementPrecedes(a, { ...a, at: 2 })).toBe(true);
    expect(acknowledgementPrecedes({ ...a, at: 2 }, a)).toBe(false);
    expect(acknowledgementPrecedes({ ...a, subject: 'a' }, a)).toBe(true);
    expect(acknowledgementPrecedes({ ...a, node: 'm' }, a)).toBe(true);
    expect(acknowledgementPrecedes({ ...a, role: 'q' }, a)).toBe(true);
    expect(acknowledgementPrecedes(a, a)).toBe(false);
    // Byte order, not UTF-16 order: U+FF5E (3 bytes) sorts before U+1F600 (4 bytes, a surrogate pair).
    expect(acknowledgementPrecedes({ ...a, subject: '\u{ff5e}' }, { ...a, subject: '😀' })).toBe(
      true,
    );
  });
});
