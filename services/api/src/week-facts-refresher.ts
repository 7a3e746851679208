import { type Clock, isoWeekOf, isoWeekWindow, type Policy } from '@callmon/compliance';
import type { Store } from '@callmon/store';
import type { FastifyBaseLogger } from 'fastify';

export interface WeekFactsRefresherOptions {
  store: Store;
  policy: Policy;
  clock: Clock;
  log?: FastifyBaseLogger;
  /**
   * Also keep the last `weeks` weeks that have ended fresh for every force with events in
   * them: at start and every `everyMs` (default 4 weeks, hourly; `false`: only weeks
   * reported).
   */
  recent?: { weeks: number; everyMs: number } | false;
}

export const RECENT_WEEKS = { weeks: 4, everyMs: 3_600_000 } as const;

/**
 * Keeps the week facts (packages/store README, "Week facts") of the weeks people ask
 * reports of: after a weekly report of a week that has ended, that week's facts are
 * refreshed in the background, one week at a time, so that the next report of it — by
 * the same person or the next — reads them. It also keeps the last few weeks that have
 * ended fresh for every force, at start and hourly, so that last week's report is quick
 * the first time it is asked for. A refresh of facts that still hold costs a few counts;
 * the week in progress is left alone, as every new event changes it.
 */
export class WeekFactsRefresher {
  readonly #options: WeekFactsRefresherOptions;
  readonly #queue = new Map<string, { force: string; week: string }>();
  #running: Promise<void> | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WeekFactsRefresherOptions) {
    this.#options = options;
    const recent = options.recent ?? RECENT_WEEKS;
    if (recent !== false) {
      void this.#refreshRecent(recent.weeks);
      this.#timer = setInterval(() => void this.#refreshRecent(recent.weeks), recent.everyMs);
      this.#timer.unref();
    }
  }

  /** Queues the last `weeks` ended weeks of every force with events in them. */
  async #refreshRecent(weeks: number): Promise<void> {
    const { store, policy, clock, log } = this.#options;
    const ended: string[] = [];
    let week = isoWeekOf(clock.now(), policy.timezone);
    for (let n = 0; n < weeks; n++) {
      week = isoWeekOf(isoWeekWindow(week, policy.timezone).from - 1, policy.timezone);
      ended.unshift(week);
    }
    try {
      const from = isoWeekWindow(ended[0]!, policy.timezone).from;
      const to = isoWeekWindow(ended.at(-1)!, policy.timezone).to;
      const forces = await store.forcesWithEvents({ from, to });
      for (const force of forces) for (const each of ended) this.reported(force, each);
    } catch (error) {
      log?.warn({ err: error }, 'recent weeks not refreshed');
    }
  }

  /** A weekly report of `week` was served: refresh its facts soon, if the week has ended. */
  reported(force: string, week: string): void {
    const { policy, clock } = this.#options;
    if (this.#closed || isoWeekWindow(week, policy.timezone).to > clock.now()) return;
    this.#queue.set(`${force}\n${week}`, { force, week });
    this.#running ??= this.#drain();
  }

  /** Resolves once every week asked for so far has been refreshed (or has failed). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Takes no more weeks; resolves when the refresh under way, if any, has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#queue.clear();
    await this.idle();
  }

  async #drain(): Promise<void> {
    const { store, policy, log } = this.#options;
    for (const [key, { force, week }] of this.#queue) {
      this.#queue.delete(key);
      const begin = performance.now();
      try {
        const refresh = await store.refreshWeekFacts({ force, week, policy });
        const ms = Math.round(performance.now() - begin);
        if (refresh.unchanged) log?.debug({ force, week, ms }, 'week facts still hold');
        else log?.info({ force, week, ...refresh, ms }, 'week facts refreshed');
      } catch (error) {
        // The report was served; its facts will be refreshed at the next report of the week.
        log?.warn({ err: error, force, week }, 'week facts refresh failed');
      }
    }
    this.#running = undefined;
  }
}
