import type { LiveSnapshot } from '@callmon/compliance';
import { Ring } from './ring.ts';

/** One point of the shift chart: the rolling 1 h compliance per channel at feed time `at`. */
export interface HistoryPoint {
  at: number;
  '999': number | null;
  '101': number | null;
}

/** A point a feed minute; 720 of them cover a 12-hour shift. */
export const HISTORY_STEP_MS = 60_000;
export const HISTORY_POINTS = 720;

/**
 * The rolling 1 h compliance over the shift, sampled from the boards as they pass, so a
 * dashboard that joins (or reconnects) mid-shift gets the whole chart at once.
 */
export class ShiftHistory {
  private readonly points = new Ring<HistoryPoint>(HISTORY_POINTS);
  private last = Number.NEGATIVE_INFINITY;

  constructor(private readonly stepMs = HISTORY_STEP_MS) {}

  record(now: number, snapshot: LiveSnapshot): void {
    // Feed time went back (a restarted replay): the old chart no longer belongs to it.
    if (now < this.last) {
      this.points.clear();
      this.last = Number.NEGATIVE_INFINITY;
    }
    if (now - this.last < this.stepMs) return;
    this.last = now;
    const hour = snapshot.windows['1h'].calls;
    this.points.push({ at: now, '999': hour['999'].compliance, '101': hour['101'].compliance });
  }

  toArray(): HistoryPoint[] {
    return this.points.toArray();
  }
}
