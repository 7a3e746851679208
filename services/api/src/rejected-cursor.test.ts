import { describe, expect, it } from 'vitest';
import { ApiError } from './errors.ts';
import { cursorAfter, decodeCursor, encodeCursor } from './rejected-cursor.ts';

const at = (...instants: number[]) => instants.map((arrivedAt) => ({ arrivedAt }));

describe('rejected-input cursors', () => {
  it('skip the entries of the last instant already served', () => {
    expect(cursorAfter(at(1, 2, 2), undefined)).toEqual({ arrivedAt: 2, skip: 2 });
    expect(cursorAfter(at(1, 2, 3), undefined)).toEqual({ arrivedAt: 3, skip: 1 });
  });

  it('a page wholly inside the instant it started from adds to the skip', () => {
    expect(cursorAfter(at(5, 5), { arrivedAt: 5, skip: 4 })).toEqual({ arrivedAt: 5, skip: 6 });
    expect(cursorAfter(at(5, 6), { arrivedAt: 5, skip: 4 })).toEqual({ arrivedAt: 6, skip: 1 });
  });

  it('round-trips, and refuses anything it did not issue', () => {
    expect(decodeCursor(encodeCursor({ arrivedAt: 1_700_000_000_000, skip: 3 }))).toEqual({
      arrivedAt: 1_700_000_000_000,
      skip: 3,
    });
    for (const text of ['', 'abc', encodeCursor({ arrivedAt: -1, skip: 1 }), 'WzEsMF0']) {
      expect(() => decodeCursor(text)).toThrow(ApiError);
    }
  });
});
