import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirstCopies, idHash } from './first-copies.ts';

/** One batch's ids (force, id), then how many of the oldest batches to forget after it. */
const batchArbitrary = fc.record({
  ids: fc.array(
    fc.record({
      force: fc.constantFrom('f1', 'f2'),
      // A small alphabet, so that batches repeat each other's ids.
      id: fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '0'), maxLength: 4 }),
    }),
    { maxLength: 60 },
  ),
  forgetAfter: fc.nat({ max: 3 }),
});

/**
 * Decides batches the way the pipeline does (get, else add) against a plain `Map` model
 * of the same rules, with a hash function the test chooses.
 */
function agreesWithModel(
  batches: Array<{ ids: Array<{ force: string; id: string }>; forgetAfter: number }>,
  hash: (id: string) => number,
  capacity: number,
): void {
  const table = new FirstCopies<string>(capacity);
  const model = new Map<string, { copy: string; batch: number }>();
  let forgottenUpTo = 0;
  batches.forEach(({ ids, forgetAfter }, index) => {
    const batch = index + 1;
    ids.forEach(({ force, id }, line) => {
      const key = `${force}\u0000${id}`;
      const known = model.get(key);
      const expected = known !== undefined && known.batch > forgottenUpTo ? known.copy : undefined;
      expect(table.get(force, id, hash(id))).toBe(expected);
      if (expected === undefined) {
        const copy = `${batch}:${line}`;
        table.add(force, id, hash(id), copy, batch);
        model.set(key, { copy, batch });
      }
    });
    if (forgetAfter > 0 && forgottenUpTo + forgetAfter <= batch) {
      forgottenUpTo += forgetAfter;
      table.forget(forgottenUpTo);
    }
  });
  let live = 0;
  for (const { batch } of model.values()) if (batch > forgottenUpTo) live++;
  expect(table.size).toBe(live);
}

describe('FirstCopies: the first copies of recent batches, by force and id', () => {
  it('finds what a map of the same ids finds, and nothing of forgotten batches', () => {
    fc.assert(
      fc.property(fc.array(batchArbitrary, { maxLength: 40 }), (batches) => {
        agreesWithModel(batches, idHash, 8);
      }),
      { numRuns: 300 },
    );
  });

  it('ids whose hashes collide are still told apart (every id given one hash)', () => {
    fc.assert(
      fc.property(fc.array(batchArbitrary, { maxLength: 20 }), (batches) => {
        agreesWithModel(batches, () => 0x9e3779b9, 8);
      }),
      { numRuns: 100 },
    );
  });

  it('grows past its first size and keeps every id not forgotten', () => {
    const table = new FirstCopies<number>(16);
    const count = 300_000;
    for (let n = 0; n < count; n++) {
      const id = `ev-${n}`;
      table.add('f1', id, idHash(id), n, Math.floor(n / 50_000) + 1);
    }
    table.forget(2);
    expect(table.size).toBe(count - 100_000);
    for (let n = 0; n < count; n += 997) {
      const id = `ev-${n}`;
      expect(table.get('f1', id, idHash(id))).toBe(n < 100_000 ? undefined : n);
      expect(table.get('f2', id, idHash(id))).toBeUndefined();
    }
  });

  it('through rebuilds, finds every id of the batches not forgotten and none of the rest', () => {
    // Ids whose 32-bit hashes often match, batches forgotten while later ones are added.
    const hash = (id: string) => idHash(id) & 0xfffff;
    const table = new FirstCopies<string>(16);
    const perBatch = 20_000;
    const batches = 12;
    for (let batch = 1; batch <= batches; batch++) {
      let found = 0;
      for (let n = 0; n < perBatch; n++) {
        const id = `b${batch}-${n}`;
        if (table.get('f1', id, hash(id)) !== undefined) found++;
        table.add('f1', id, hash(id), id, batch);
      }
      expect(found).toBe(0);
      // Two batches stay in flight.
      if (batch > 2) table.forget(batch - 2);
      for (let n = 0; n < perBatch; n += 1_999) {
        const older = `b${batch - 2}-${n}`;
        const recent = `b${batch - 1}-${n}`;
        expect(table.get('f1', older, hash(older))).toBeUndefined();
        if (batch > 1) expect(table.get('f1', recent, hash(recent))).toBe(recent);
      }
    }
    expect(table.size).toBe(2 * perBatch);
  });

  it('hashes spread sequential ids over the slots a table of 2^16 uses', () => {
    const used = new Set<number>();
    for (let n = 0; n < 20_000; n++) used.add(idHash(`c${String(n).padStart(9, '0')}`) & 0xffff);
    // 20 000 random picks of 65 536 slots leave ≈ 17 200 distinct.
    expect(used.size).toBeGreaterThan(16_500);
  });
});
