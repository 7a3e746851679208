import {
  type Clock,
  isoWeekAfter,
  isoWeekOf,
  isoWeekWindow,
  type Policy,
} from '@callmon/compliance';
import type { Store } from '@callmon/store';
import type { FastifyBaseLogger } from 'fastify';

export interface WeekFactsRefresherOptions {
  store: Store;
  policy: Policy;
  clock: Clock;
  log?: FastifyBaseLogger;
}

/** The ended weeks kept fresh for every force, and how often they are looked at. */
const RECENT_WEEKS = 4;
const RECENT_EVERY_MS = 3_600_000;

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
  readonly #timer: NodeJS.Timeout;

  constructor(options: WeekFactsRefresherOptions) {
    this.#options = options;
    void this.#refreshRecent();
    this.#timer = setInterval(() => void this.#refreshRecent(), RECENT_EVERY_MS);
    this.#timer.unref();
  }

  /** Queues the last few ended weeks of every force with events in them. */
  async #refreshRecent(): Promise<void> {
    const { store, policy, clock, log } = this.#options;
    const current = isoWeekOf(clock.now(), policy.timezone);
    const ended: string[] = [];
    for (let n = RECENT_WEEKS; n >= 1; n--) ended.push(isoWeekAfter(current, policy.timezone, -n));
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

  /** Takes no more weeks; resolves when the refresh under way, if any, has ended. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#queue.clear();
    while (this.#running !== undefined) await this.#running;
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
