export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/**
 * Formats UTC milliseconds as `2024-02-19T21:04:05.123Z`, exactly like
 * `Date.prototype.toISOString` for years 0–9999, several times faster: the date and
 * hour are computed once per hour (events come out in time order), the rest from lookup
 * tables. Formatting timestamps is a large share of the cost of writing a million events.
 */
export class UtcFormatter {
  private hourStart = Number.NaN;
  private hourPrefix = '';

  format(ms: number): string {
    let rem = ms - this.hourStart;
    if (!(rem >= 0 && rem < HOUR)) {
      this.hourStart = Math.floor(ms / HOUR) * HOUR;
      this.hourPrefix = new Date(this.hourStart).toISOString().slice(0, 14);
      rem = ms - this.hourStart;
    }
    const m = Math.floor(rem / MINUTE);
    rem -= m * MINUTE;
    const s = Math.floor(rem / 1000);
    return this.hourPrefix + PAD2[m] + ':' + PAD2[s] + '.' + PAD3[rem - s * 1000] + 'Z';
  }
}

/** Local day of week (0 = Monday … 6 = Sunday) and hour of day at an instant. */
export interface LocalHour {
  dayOfWeek: number;
  hour: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * Demand follows the clock on the control-room wall, not UTC: in a UK summer the evening
 * peak is at 18:00 UTC, not 19:00. Asked once per simulated hour, so Intl's cost is
 * irrelevant.
 */
export function localHourOf(timeZone: string): (ms: number) => LocalHour {
  if (timeZone === 'UTC') {
    return (ms) => {
      const d = new Date(ms);
      return { dayOfWeek: (d.getUTCDay() + 6) % 7, hour: d.getUTCHours() };
    };
  }
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  return (ms) => {
    let dayOfWeek = 0;
    let hour = 0;
    for (const part of format.formatToParts(ms)) {
      if (part.type === 'weekday') dayOfWeek = WEEKDAYS[part.value] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value);
    }
    return { dayOfWeek, hour };
  };
}

/** Throws a RangeError for a time zone this runtime does not know. */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-GB', { timeZone });
}
