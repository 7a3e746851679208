import { badParameter } from './errors.ts';

/**
 * Keyset paging over rejected inputs, which the store lists by arrival time (then source
 * position). A cursor is the arrival instant of the last entry served and how many
 * entries of that very instant were served: the next page starts at that instant and
 * skips them. Unlike a plain offset it does not shift when newer inputs arrive, and it
 * costs a scan of one instant's entries (one batch at most), not of every page before.
 */
/** No arrival can be later than this (2200-01-01), whatever a forged cursor says. */
const LATEST_ARRIVAL = 7_258_118_400_000;

export interface RejectedCursor {
  /** Arrival instant, UTC ms. */
  arrivedAt: number;
  /** Entries at exactly `arrivedAt` already served. */
  skip: number;
}

export function encodeCursor(cursor: RejectedCursor): string {
  return Buffer.from(JSON.stringify([cursor.arrivedAt, cursor.skip])).toString('base64url');
}

export function decodeCursor(text: string): RejectedCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badParameter('cursor', 'is not a cursor this API issued');
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isSafeInteger(value[0]) ||
    !Number.isSafeInteger(value[1]) ||
    value[0] < 0 ||
    value[0] > LATEST_ARRIVAL ||
    value[1] < 1 ||
    value[1] > 100_000_000
  ) {
    throw badParameter('cursor', 'is not a cursor this API issued');
  }
  return { arrivedAt: value[0], skip: value[1] };
}

/** The cursor after a page (in store order), given the cursor the page started from. */
export function cursorAfter(
  page: readonly { arrivedAt: number }[],
  started: RejectedCursor | undefined,
): RejectedCursor | undefined {
  const last = page.at(-1);
  if (last === undefined) return undefined;
  let skip = 0;
  for (
    let index = page.length - 1;
    index >= 0 && page[index]!.arrivedAt === last.arrivedAt;
    index--
  ) {
    skip++;
  }
  // The whole page sat at the instant the page started from: count what was skipped too.
  if (skip === page.length && started !== undefined && started.arrivedAt === last.arrivedAt) {
    skip += started.skip;
  }
  return { arrivedAt: last.arrivedAt, skip };
}
