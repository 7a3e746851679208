import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FirstCopies } from './first-copies.ts';

/** The same contract over plain maps: what the typed-array table must behave as. */
class ModelCopies {
  private readonly batches = new Map<number, Map<string, Map<string, string>>>();
  private current = 0;
  private retiredUpTo = 0;

  begin(number: number): void {
    this.current = number;
    if (!this.batches.has(number)) this.batches.set(number, new Map());
  }

  get(force: string, id: string): string | undefined {
    for (const [number, forces] of this.batches) {
      if (number <= this.retiredUpTo) continue;
      const copy = forces.get(force)?.get(id);
      if (copy !== undefined) return copy;
    }
    return undefined;
  }

  add(force: string, id: string, copy: string): void {
    const forces = this.batches.get(this.current)!;
    let ids = forces.get(force);
    if (ids === undefined) {
      ids = new Map();
      forces.set(force, ids);
    }
    ids.set(id, copy);
  }

  retireUpTo(number: number): void {
    this.retiredUpTo = Math.max(this.retiredUpTo, number);
  }
}

type Step =
  | { kind: 'line'; force: string; id: string }
  | { kind: 'next-batch' }
  | { kind: 'retire'; back: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({
      kind: fc.constant('line' as const),
      force: fc.constantFrom('met', 'kent'),
      // Enough ids to fill a table to where it is rebuilt (long runs of taken slots, live
      // and dead), few enough that repeats within and across batches are common.
      id: fc.integer({ min: 0, max: 1500 }).map((n) => `ev-${n}`),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'next-batch' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('retire' as const),
      back: fc.integer({ min: 0, max: 3 }),
    }),
  },
);

describe('FirstCopies', () => {
  it('finds what a map of the batches still in flight finds, for any lines and retirements', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 500, maxLength: 4000 }), (steps) => {
        const table = new FirstCopies<string>();
        const model = new ModelCopies();
        let batch = 1;
        table.begin(batch);
        model.begin(batch);
        let retired = 0;
        steps.forEach((current, index) => {
          if (current.kind === 'next-batch') {
            batch++;
            table.begin(batch);
            model.begin(batch);
          } else if (current.kind === 'retire') {
            // Batches retire in order, and never the one being decided.
            const upTo = Math.max(retired, batch - 1 - current.back);
            retired = upTo;
            table.retireUpTo(upTo);
            model.retireUpTo(upTo);
          } else {
            const forces = table.force(current.force);
            const found = forces.get(current.id);
            expect(found).toBe(model.get(current.force, current.id));
            if (found === undefined) {
              const copy = `line ${index}`;
              forces.add(copy);
              model.add(current.force, current.id, copy);
            }
          }
        });
      }),
      { numRuns: 100 },
    );
  });

  it('keeps every id of a large batch through its rebuilds, and forgets them when retired', () => {
    const table = new FirstCopies<number>();
    table.begin(1);
    const met = table.force('met');
    const count = 100_000;
    let foundBeforeAdded = 0;
    for (let n = 0; n < count; n++) {
      if (met.get(`id-${n}`) !== undefined) foundBeforeAdded++;
      else met.add(n);
    }
    expect(foundBeforeAdded).toBe(0);
    const wrong: number[] = [];
    for (let n = 0; n < count; n++) if (met.get(`id-${n}`) !== n) wrong.push(n);
    expect(wrong).toEqual([]);
    // Another force's table is its own.
    expect(table.force('kent').get('id-7')).toBeUndefined();
    expect(table.size).toBe(count);

    table.begin(2);
    table.retireUpTo(1);
    expect(table.size).toBe(0);
    expect(met.get('id-7')).toBeUndefined();
    met.add(-7);
    expect(met.get('id-7')).toBe(-7);
  });

  it('refuses an add without a miss before it, and a batch already retired', () => {
    const table = new FirstCopies<string>();
    table.begin(1);
    const met = table.force('met');
    expect(() => met.add('x')).toThrow(/follows a get/);
    expect(met.get('a')).toBeUndefined();
    met.add('first');
    expect(() => met.add('again')).toThrow(/follows a get/);
    table.retireUpTo(1);
    expect(() => table.begin(1)).toThrow(/already retired/);
  });
});
