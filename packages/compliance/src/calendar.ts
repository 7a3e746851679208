/**
 * Calendar windows in a policy's time zone (metrics.md §6): a day or ISO week is
 * `[local start, local end)` converted to UTC instants, so a week that crosses a clock
 * change lasts 167 or 169 hours. Uses Intl only; no time-zone library.
 */

const DAY_MS = 86_400_000;

export interface CalendarWindow {
  /** Inclusive start, UTC ms. */
  from: number;
  /** Exclusive end, UTC ms. */
  to: number;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at the instant `utcMs`, in ms (Europe/London in summer: +3 600 000). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  let formatter = offsetFormatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(zone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return asUtc - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/**
 * The UTC instant of a local wall-clock midnight. Midnight exists in every zone callmon
 * targets (clock changes happen at 01:00 or later); where it does not, the first
 * instant after the gap is returned.
 */
export function localMidnightToUtc(zone: string, year: number, month: number, day: number): number {
  const wall = Date.UTC(year, month - 1, day);
  const local = (utc: number) => utc + zoneOffsetMs(zone, utc);
  const first = wall - zoneOffsetMs(zone, wall);
  const second = wall - zoneOffsetMs(zone, first);
  const exact = [first, second].filter((utc) => local(utc) === wall);
  if (exact.length > 0) return Math.min(...exact);
  // Midnight is in a spring-forward gap: one candidate lies before the jump (local time
  // still on the previous day), the other at or after it. Find the jump, in whole seconds
  // as the zone data has it.
  let before = Math.min(first, second);
  let after = Math.max(first, second);
  while (after - before > 1000) {
    const middle = before + Math.floor((after - before) / 2000) * 1000;
    if (local(middle) >= wall) after = middle;
    else before = middle;
  }
  return after;
}

const ISO_WEEK = /^(\d{4})-W(\d{2})$/;

export function isoWeeksInYear(year: number): 52 | 53 {
  // A year has 53 ISO weeks when 1 January or (leap year) 31 December falls on a Thursday.
  const jan1 = new Date(Date.UTC(year, 0, 1)).getUTCDay();
  const dec31 = new Date(Date.UTC(year, 11, 31)).getUTCDay();
  return jan1 === 4 || dec31 === 4 ? 53 : 52;
}

export class CalendarError extends Error {
  override readonly name = 'CalendarError';
}

/** The ISO week `YYYY-Www` as a window in `zone`. Throws CalendarError on a bad week. */
export function isoWeekWindow(week: string, zone: string): CalendarWindow {
  const match = ISO_WEEK.exec(week);
  if (!match) throw new CalendarError(`week "${week}" is not of the form YYYY-Www (e.g. 2024-W08)`);
  const year = Number(match[1]);
  const number = Number(match[2]);
  if (number < 1 || number > isoWeeksInYear(year)) {
    throw new CalendarError(
      `week ${week} does not exist: ${year} has ${isoWeeksInYear(year)} ISO weeks`,
    );
  }
  // Week 1 is the week with 4 January in it; weeks start on Monday.
  const jan4 = Date.UTC(year, 0, 4);
  const mondayOfWeek1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  const monday = new Date(mondayOfWeek1 + (number - 1) * 7 * DAY_MS);
  const nextMonday = new Date(monday.getTime() + 7 * DAY_MS);
  return {
    from: localMidnightToUtc(
      zone,
      monday.getUTCFullYear(),
      monday.getUTCMonth() + 1,
      monday.getUTCDate(),
    ),
    to: localMidnightToUtc(
      zone,
      nextMonday.getUTCFullYear(),
      nextMonday.getUTCMonth() + 1,
      nextMonday.getUTCDate(),
    ),
  };
}

/** The ISO week (`YYYY-Www`) that contains the instant `utcMs` in `zone`. */
export function isoWeekOf(utcMs: number, zone: string): string {
  const local = new Date(utcMs + zoneOffsetMs(zone, utcMs));
  const weekday = (local.getUTCDay() + 6) % 7;
  const thursday = new Date(
    Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) +
      (3 - weekday) * DAY_MS,
  );
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The ISO week `weeks` after `week` (before it when negative), as `YYYY-Www`. */
export function isoWeekAfter(week: string, zone: string, weeks = 1): string {
  let result = week;
  for (let step = 0; step < Math.abs(weeks); step++) {
    const window = isoWeekWindow(result, zone);
    // The next week starts where this one ends; the one before ends where this starts.
    result = isoWeekOf(weeks > 0 ? window.to : window.from - 1, zone);
  }
  return result;
}
