import { DAY, HOUR, type LocalHour, MINUTE } from './calendar.ts';
import type { Rng } from './prng.ts';

/**
 * Relative 999 demand by local hour of day (00–23). Police 999 demand is lowest around
 * 04:00–06:00 and highest in the evening, roughly three times the trough; the shape is
 * the familiar one from force demand profiles (an assumption, not a sourced series).
 */
export const HOURLY_999 = [
  1.1, 0.95, 0.8, 0.62, 0.5, 0.45, 0.5, 0.62, 0.78, 0.9, 0.98, 1.02, 1.06, 1.08, 1.1, 1.18, 1.26,
  1.32, 1.36, 1.38, 1.38, 1.36, 1.3, 1.2,
] as const;

/** 101 is office-hours demand: busy 09:00–17:00, very quiet overnight. */
export const HOURLY_101 = [
  0.35, 0.25, 0.18, 0.14, 0.12, 0.14, 0.25, 0.55, 1.05, 1.45, 1.6, 1.62, 1.55, 1.5, 1.5, 1.48, 1.45,
  1.38, 1.25, 1.15, 1.05, 0.9, 0.72, 0.52,
] as const;

/** Relative demand by local day of week, Monday first. */
export const WEEKDAY_999 = [0.97, 0.95, 0.95, 0.97, 1.05, 1.1, 1.01] as const;
export const WEEKDAY_101 = [1.15, 1.08, 1.04, 1.02, 1.0, 0.85, 0.86] as const;

/** Friday and Saturday nights (21:00–03:00): the night-time economy adds 999 demand. */
export const NIGHT_TIME_ECONOMY_999 = 1.2;

/** True for Friday and Saturday evenings from 20:00 and the small hours that follow them. */
export function isWeekendNight(local: LocalHour, fromHour = 21, toHour = 3): boolean {
  const { dayOfWeek, hour } = local;
  return (
    ((dayOfWeek === 4 || dayOfWeek === 5) && hour >= fromHour) ||
    ((dayOfWeek === 5 || dayOfWeek === 6) && hour < toHour)
  );
}

const HOURS_PER_YEAR = 365.25 * 24;

function weeklyProfile(
  hourly: readonly number[],
  weekday: readonly number[],
  night: number,
): Float64Array {
  const profile = new Float64Array(168);
  let sum = 0;
  for (let dayOfWeek = 0; dayOfWeek < 7; dayOfWeek++) {
    for (let hour = 0; hour < 24; hour++) {
      const boost = isWeekendNight({ dayOfWeek, hour }) ? night : 1;
      const value = hourly[hour]! * weekday[dayOfWeek]! * boost;
      profile[dayOfWeek * 24 + hour] = value;
      sum += value;
    }
  }
  // Normalised to a weekly mean of 1, so that the yearly volume parameter is exact.
  for (let i = 0; i < 168; i++) profile[i]! /= sum / 168;
  return profile;
}

const PROFILE_999 = weeklyProfile(HOURLY_999, WEEKDAY_999, NIGHT_TIME_ECONOMY_999);
const PROFILE_101 = weeklyProfile(HOURLY_101, WEEKDAY_101, 1);

export interface DemandSettings {
  calls999PerYear: number;
  calls101PerYear: number;
  /** Unplanned extra demand on Friday/Saturday nights (20:00–04:00), 1 = none. */
  weekendNightSurge999: number;
  weekendNightSurge101: number;
  /** A major incident at about 23:00 every Friday (a burst of 999 repeat calls). */
  fridayMajorIncident: boolean;
  /** Mean number of random 999 bursts a day (RTCs, fires, disorder: many callers at once). */
  surgesPerDay: number;
}

/** The demand the rota is planned for: calls per hour at a local hour, without surges. */
export function plannedCallsPerHour(
  channel: '999' | '101',
  local: LocalHour,
  settings: Pick<DemandSettings, 'calls999PerYear' | 'calls101PerYear'>,
): number {
  const index = local.dayOfWeek * 24 + local.hour;
  return channel === '999'
    ? (settings.calls999PerYear / HOURS_PER_YEAR) * PROFILE_999[index]!
    : (settings.calls101PerYear / HOURS_PER_YEAR) * PROFILE_101[index]!;
}

/** A stretch of time over which demand is constant. Rates are calls per millisecond. */
export interface DemandSegment {
  start: number;
  end: number;
  rate999: number;
  rate101: number;
  /** Share of this segment's 999 calls that are repeat calls about a burst's one event. */
  surgeShare999: number;
  /** Actual over planned 999 demand: how stretched the force is (slows attendance). */
  load: number;
}

interface Surge {
  start: number;
  end: number;
  multiplier: number;
}

/**
 * The demand of the simulated period as a sequence of constant-rate segments: one per
 * hour, split where a surge starts or ends. Produced lazily, so a year of demand never
 * sits in memory; surges are drawn a day at a time.
 */
export class DemandTimeline {
  private hourStart: number;
  private pending: DemandSegment[] = [];
  private surges: Surge[] = [];
  private surgesDrawnUntil: number;

  constructor(
    private readonly settings: DemandSettings,
    private readonly rng: Rng,
    private readonly localHour: (ms: number) => LocalHour,
    start: number,
  ) {
    this.hourStart = Math.floor(start / HOUR) * HOUR;
    this.surgesDrawnUntil = this.hourStart;
  }

  next(): DemandSegment {
    while (this.pending.length === 0) this.buildHour();
    return this.pending.shift()!;
  }

  private drawSurges(until: number): void {
    const { surgesPerDay } = this.settings;
    while (this.surgesDrawnUntil < until) {
      const dayStart = this.surgesDrawnUntil;
      const count = surgesPerDay > 0 ? this.rng.poisson(surgesPerDay) : 0;
      for (let i = 0; i < count; i++) {
        // Bursts follow demand: more people are out to see (and report) things at 20:00
        // than at 04:00. Rejection sampling against the hourly 999 profile.
        let start = dayStart;
        for (let tries = 0; tries < 20; tries++) {
          start = dayStart + Math.floor(this.rng.next() * DAY);
          const local = this.localHour(start);
          if (this.rng.next() * 1.4 < HOURLY_999[local.hour]!) break;
        }
        this.addSurge(start, this.rng.uniform(20, 90) * MINUTE, this.rng.uniform(1.5, 3));
      }
      this.surgesDrawnUntil += DAY;
    }
  }

  private addSurge(start: number, duration: number, multiplier: number): void {
    // Whole milliseconds: segment boundaries become arrival times, and `at` has ms precision.
    this.surges.push({ start: Math.round(start), end: Math.round(start + duration), multiplier });
  }

  private buildHour(): void {
    const from = this.hourStart;
    const to = from + HOUR;
    this.hourStart = to;
    this.drawSurges(to);
    const local = this.localHour(from);
    const { settings } = this;
    if (settings.fridayMajorIncident && local.dayOfWeek === 4 && local.hour === 23) {
      this.addSurge(from + this.rng.uniform(0, 20) * MINUTE, 60 * MINUTE, 2.5);
    }
    const night = isWeekendNight(local, 20, 4);
    const planned999 = plannedCallsPerHour('999', local, settings);
    const base999 = planned999 * (night ? settings.weekendNightSurge999 : 1);
    const base101 =
      plannedCallsPerHour('101', local, settings) * (night ? settings.weekendNightSurge101 : 1);

    this.surges = this.surges.filter((s) => s.end > from);
    const cuts = [from, to];
    for (const s of this.surges) {
      if (s.start > from && s.start < to) cuts.push(s.start);
      if (s.end > from && s.end < to) cuts.push(s.end);
    }
    cuts.sort((a, b) => a - b);
    for (let i = 0; i + 1 < cuts.length; i++) {
      const start = cuts[i]!;
      const end = cuts[i + 1]!;
      if (end <= start) continue;
      let multiplier = 1;
      for (const s of this.surges) {
        if (s.start <= start && s.end >= end) multiplier += s.multiplier - 1;
      }
      const rate999 = base999 * multiplier;
      this.pending.push({
        start,
        end,
        rate999: rate999 / HOUR,
        rate101: base101 / HOUR,
        surgeShare999: (multiplier - 1) / multiplier,
        load: planned999 > 0 ? rate999 / planned999 : 1,
      });
    }
  }
}
