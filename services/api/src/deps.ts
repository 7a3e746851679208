import type { Clock, Policy } from '@callmon/compliance';
import type { Store } from '@callmon/store';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveView } from './live-view.ts';

export interface RateLimit {
  /** Requests allowed per window, per token subject (or per client address without a valid token). */
  max: number;
  timeWindowMs: number;
}

/** Generous enough for a wallboard per supervisor and for the benchmarks (200 req/s). */
export const DEFAULT_RATE_LIMIT: RateLimit = { max: 30_000, timeWindowMs: 60_000 };

export interface ApiDeps {
  store: Store;
  liveView: LiveView;
  /** Signs and checks access tokens; never logged. */
  tokenSecret: string;
  clock: Clock;
  /** The target policy reports are computed under. */
  policy: Policy;
  log?: FastifyBaseLogger;
  /** `false` turns rate limiting off (tests of other things). */
  rateLimit?: RateLimit | false;
  /**
   * Refresh a closed week's stored facts in the background after its weekly report, so
   * that later reports of it read them (`WeekFactsRefresher`). Default true.
   */
  refreshWeekFacts?: boolean;
}
