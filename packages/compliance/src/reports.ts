import { type CallmonEvent, formatUtc } from '@callmon/events';
import { isoWeekWindow } from './calendar.ts';
import { EventDeduper } from './dedupe.ts';
import { FactBook } from './fact-book.ts';
import { type EvaluatedWindow, evaluateWindow, type WindowFigures } from './figures.ts';
import type { Policy } from './policy.ts';

/** The live windows of metrics.md §6, in snapshot order. */
export const LIVE_WINDOWS = {
  '15m': 15 * 60_000,
  '1h': 60 * 60_000,
  '24h': 24 * 60 * 60_000,
  '7d': 7 * 24 * 60 * 60_000,
} as const;
export type LiveWindowName = keyof typeof LIVE_WINDOWS;
export const LIVE_WINDOW_NAMES = Object.keys(LIVE_WINDOWS) as LiveWindowName[];
/** The longest live window: live state older than this (plus lateness) can go. */
export const LONGEST_WINDOW_MS = LIVE_WINDOWS['7d'];

/** metrics.md §7, the canonical weekly report. */
export interface WeeklyReport extends Omit<EvaluatedWindow, 'data_quality'> {
  force: string;
  week: string;
  policy: string;
  from: string;
  to: string;
  as_of: string;
  data_quality: EvaluatedWindow['data_quality'];
}

/** metrics.md §8, the live snapshot of one force. */
export interface LiveSnapshot {
  force: string;
  policy: string;
  as_of: string;
  windows: Record<LiveWindowName, WindowFigures>;
}

/**
 * The events an evaluation as of `asOf` may use: accepted (first copy of each
 * (force, id) in arrival order), of the one force, with `at <= asOf`. De-duplication
 * comes first: a conflicting later copy stays out even if the first copy is dated
 * after `asOf`.
 */
export function factsAsOf(events: Iterable<CallmonEvent>, force: string, asOf: number): FactBook {
  const deduper = new EventDeduper();
  const book = new FactBook();
  for (const event of events) {
    if (deduper.admit(event) !== 'accepted') continue;
    if (event.force !== force || event.at > asOf) continue;
    book.apply(event);
  }
  return book;
}

export function windowFigures(window: EvaluatedWindow): WindowFigures {
  return {
    calls: window.calls,
    attendance: window.attendance,
    victim_updates: window.victim_updates,
  };
}

/** §7: the weekly report of `force` for ISO week `week` in the policy's zone, as of `asOf`. */
export function weeklyReport(
  events: Iterable<CallmonEvent>,
  options: { force: string; week: string; asOf: number; policy: Policy },
): WeeklyReport {
  const { force, week, asOf, policy } = options;
  const span = isoWeekWindow(week, policy.timezone);
  const book = factsAsOf(events, force, asOf);
  const figures = evaluateWindow(book.calls.values(), book.incidents.values(), span, asOf, policy);
  return weeklyReportFrom(figures, { force, week, asOf, policy, span });
}

/** Assemble the canonical report object (key order as in metrics.md §7). */
export function weeklyReportFrom(
  figures: EvaluatedWindow,
  meta: {
    force: string;
    week: string;
    asOf: number;
    policy: Policy;
    span: { from: number; to: number };
  },
): WeeklyReport {
  return {
    force: meta.force,
    week: meta.week,
    policy: meta.policy.idFor(meta.span.from, meta.span.to),
    from: formatUtc(meta.span.from),
    to: formatUtc(meta.span.to),
    as_of: formatUtc(meta.asOf),
    calls: figures.calls,
    attendance: figures.attendance,
    victim_updates: figures.victim_updates,
    data_quality: figures.data_quality,
  };
}

/** The span `(T − W, T]` of a rolling window as `[from, to)`. */
export function rollingSpan(asOf: number, windowMs: number): { from: number; to: number } {
  return { from: asOf - windowMs + 1, to: asOf + 1 };
}

/**
 * Assemble the canonical §8 object from the figures of each live window, in
 * `LIVE_WINDOW_NAMES` order — the one assembly the engine and the SQL path share.
 */
export function liveSnapshotFrom(
  figures: readonly EvaluatedWindow[],
  meta: { force: string; asOf: number; policy: Policy },
): LiveSnapshot {
  const windows = {} as Record<LiveWindowName, WindowFigures>;
  LIVE_WINDOW_NAMES.forEach((name, index) => {
    windows[name] = windowFigures(figures[index]!);
  });
  const longest = rollingSpan(meta.asOf, LONGEST_WINDOW_MS);
  return {
    force: meta.force,
    policy: meta.policy.idFor(longest.from, longest.to),
    as_of: formatUtc(meta.asOf),
    windows,
  };
}

/** §8 from a fact book: every live window as of `asOf`. */
export function snapshotOf(
  book: FactBook,
  force: string,
  asOf: number,
  policy: Policy,
): LiveSnapshot {
  const figures = LIVE_WINDOW_NAMES.map((name) =>
    evaluateWindow(
      book.calls.values(),
      book.incidents.values(),
      rollingSpan(asOf, LIVE_WINDOWS[name]),
      asOf,
      policy,
    ),
  );
  return liveSnapshotFrom(figures, { force, asOf, policy });
}

/** §8 by batch evaluation: the rolling snapshot of `force` as of `asOf`. */
export function rollingSnapshot(
  events: Iterable<CallmonEvent>,
  options: { force: string; asOf: number; policy: Policy },
): LiveSnapshot {
  const book = factsAsOf(events, options.force, options.asOf);
  return snapshotOf(book, options.force, options.asOf, options.policy);
}
