import type { AcknowledgementRecord } from '@callmon/store';
import { describe, expect, it } from 'vitest';
import { AcknowledgementBook } from './acknowledgement-book.ts';

const press = (
  alert: string,
  at: number,
  fields: Partial<AcknowledgementRecord> = {},
): AcknowledgementRecord => ({
  force: 'northants',
  alert,
  kind: 'breach',
  rule: 'call.unanswered',
  item: alert,
  subject: 'sgt.one',
  role: 'supervisor',
  at,
  node: 'api-1',
  ...fields,
});

describe('AcknowledgementBook', () => {
  it('holds the same one per alert whatever order the presses come in', () => {
    const presses = [
      press('a', 20, { subject: 'sgt.b' }),
      press('a', 10, { subject: 'sgt.c', node: 'api-2' }),
      press('a', 10, { subject: 'sgt.c', node: 'api-1' }),
      press('b', 5),
    ];
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ];
    const held = orders.map((order) => {
      const book = new AcknowledgementBook(10);
      for (const index of order) book.offer(presses[index]!);
      return book.toArray();
    });
    for (const one of held) expect(one).toEqual(held[0]);
    expect(held[0]).toEqual([
      { force: 'northants', alert: 'b', by: 'sgt.one', role: 'supervisor', at: 5 },
      { force: 'northants', alert: 'a', by: 'sgt.c', role: 'supervisor', at: 10 },
    ]);
  });

  it('says when a press now stands: a first one, or one that precedes the held one', () => {
    const book = new AcknowledgementBook(10);
    expect(book.offer(press('a', 10))).toBe(true);
    expect(book.offer(press('a', 10))).toBe(false);
    expect(book.offer(press('a', 11, { subject: 'aaa' }))).toBe(false);
    expect(book.offer(press('a', 9))).toBe(true);
    expect(book.get('a')?.at).toBe(9);
  });

  it('keeps the newest alerts by time when full', () => {
    const book = new AcknowledgementBook(2);
    expect(book.offer(press('new', 30))).toBe(true);
    expect(book.offer(press('mid', 20))).toBe(true);
    // Older than everything held: taken and dropped at once, so nobody is told.
    expect(book.offer(press('old', 10))).toBe(false);
    expect(book.offer(press('newest', 40))).toBe(true);
    expect(book.toArray().map((held) => held.alert)).toEqual(['new', 'newest']);
  });
});
