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
import { windowFigures } from './window-figures.ts';

export interface WeeklyReportOptions {
  force: string;
  /** ISO week `YYYY-Www` in the policy's time zone. */
  week: string;
  /** `T`, UTC ms: only events dated at or before it count. */
  asOf: number;
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
  const [figures] = await windowFigures(client, firstCopyOrder, {
    force,
    asOf,
    policy,
    spans: [span],
  });
  return weeklyReportFrom(figures!, { force, week, asOf, policy, span });
}

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
