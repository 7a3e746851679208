import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeQueue } from './time-queue.ts';

describe('TimeQueue', () => {
  it('pops in time order, equal times in insertion order (a stable sort)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const queue = new TimeQueue<number>();
        times.forEach((t, i) => {
          queue.push(t, i);
        });
        const popped: number[] = [];
        for (let i = queue.pop(); i !== undefined; i = queue.pop()) popped.push(i);
        const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
        expect(popped).toEqual(expected.map((e) => e.i));
      }),
    );
  });

  it('peekTime is the earliest time, Infinity when empty; pushes between pops keep the order', () => {
    const queue = new TimeQueue<string>();
    expect(queue.peekTime()).toBe(Number.POSITIVE_INFINITY);
    queue.push(5, 'a');
    queue.push(3, 'b');
    expect(queue.peekTime()).toBe(3);
    expect(queue.pop()).toBe('b');
    queue.push(4, 'c');
    queue.push(5, 'd');
    expect([queue.pop(), queue.pop(), queue.pop(), queue.pop()]).toEqual([
      'c',
      'a',
      'd',
      undefined,
    ]);
    expect(queue.size).toBe(0);
  });
});
