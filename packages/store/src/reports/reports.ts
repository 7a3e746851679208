import {
  isoWeekWindow,
  LIVE_WINDOW_NAMES,
  LIVE_WINDOWS,
  type LiveSnapshot,
  liveSnapshotFrom,
  type Policy,
  rollingSpan,
  type WeeklyReport,
  weeklyReportFrom,
} from '@callmon/compliance';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  refreshWeekFacts,
  type WeekFactsRefresh,
  weekFiguresFromFacts,
  windowFigures,
} from './window-figures.ts';

export interface WeeklyReportOptions {
  force: string;
  /** ISO week `YYYY-Www` in the policy's time zone. */
  week: string;
  /** `T`, UTC ms: only events dated at or before it count. */
  asOf: number;
  policy: Policy;
  /**
   * Read the week's stored facts when they still hold (`refreshWeekFacts`; README,
   * Reports) — the same report, faster. Default true; false derives it from the events.
   */
  storedFacts?: boolean;
}

export interface RefreshWeekFactsOptions {
  force: string;
  /** ISO week `YYYY-Www` in the policy's time zone. */
  week: string;
  policy: Policy;
}

export interface RollingSnapshotOptions {
  force: string;
  asOf: number;
  policy: Policy;
}

/** metrics.md §7 from the store: equal to `weeklyReport` of `@callmon/compliance`. */
export async function weeklyReportOf(
  client: ClickHouseClient,
  firstCopyOrder: string,
  options: WeeklyReportOptions,
): Promise<WeeklyReport> {
  const { force, week, asOf, policy } = options;
  const span = isoWeekWindow(week, policy.timezone);
  const stored =
    options.storedFacts === false
      ? undefined
      : await weekFiguresFromFacts(client, { force, asOf, policy, span });
  const figures =
    stored ??
    (await windowFigures(client, firstCopyOrder, { force, asOf, policy, spans: [span] }))[0]!;
  return weeklyReportFrom(figures, { force, week, asOf, policy, span });
}

/** Stores a week's facts for {@link weeklyReportOf} (README, Reports). */
export function refreshWeekFactsOf(
  client: ClickHouseClient,
  firstCopyOrder: string,
  options: RefreshWeekFactsOptions,
): Promise<WeekFactsRefresh> {
  const { force, week, policy } = options;
  return refreshWeekFacts(client, firstCopyOrder, {
    force,
    span: isoWeekWindow(week, policy.timezone),
  });
}

export type { WeekFactsRefresh } from './window-figures.ts';

/** metrics.md §8 from the store: equal to `rollingSnapshot` of `@callmon/compliance`. */
export async function rollingSnapshotOf(
  client: ClickHouseClient,
  firstCopyOrder: string,
  options: RollingSnapshotOptions,
): Promise<LiveSnapshot> {
  const { force, asOf, policy } = options;
  const spans = LIVE_WINDOW_NAMES.map((name) => rollingSpan(asOf, LIVE_WINDOWS[name]));
  const figures = await windowFigures(client, firstCopyOrder, { force, asOf, policy, spans });
  return liveSnapshotFrom(figures, { force, asOf, policy });
}
