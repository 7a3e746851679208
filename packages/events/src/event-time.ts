/**
 * RFC 3339 timestamps as the contract allows them: an explicit zone (`Z` or `±hh:mm`),
 * millisecond precision or coarser. Parsed by hand rather than with `Date.parse`, which
 * accepts zone-less strings (as local time) and rolls impossible dates over
 * (`2024-02-30` → 1 March).
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The most common mistake: a well-formed local time with no zone at all. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/**
 * The syntax of `at` as a JSON Schema `pattern`, for validators that do not assert
 * `format: date-time`. Calendar checks (no 30 February) are beyond a regex; the parser
 * below is the authority.
 */
export const EVENT_TIME_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?([Zz]|[+-]\\d{2}:\\d{2})$';

export type EventTimeResult = { ok: true; ms: number } | { ok: false; detail: string };

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function parseEventTime(text: string): EventTimeResult {
  const m = RFC3339.exec(text);
  if (!m) {
    if (ZONELESS.test(text)) {
      return {
        ok: false,
        detail: `${JSON.stringify(text)} has no zone; add Z or an offset such as +01:00`,
      };
    }
    return {
      ok: false,
      detail: 'expected RFC 3339 date-time with an explicit zone, e.g. 2024-02-19T21:04:05.123Z',
    };
  }
  const [, y, mo, d, h, mi, s, frac, zulu, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) return { ok: false, detail: `month ${mo} does not exist` };
  if (day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, detail: `day ${d} does not exist in ${y}-${mo}` };
  }
  if (hour > 23) return { ok: false, detail: `hour ${h} is out of range` };
  if (minute > 59) return { ok: false, detail: `minute ${mi} is out of range` };
  // A leap second (60) has no millisecond representation in UTC epoch time.
  if (second > 59) return { ok: false, detail: `second ${s} is out of range` };
  if (frac !== undefined && frac.length > 3) {
    return {
      ok: false,
      detail: `fraction .${frac} is finer than milliseconds; send at most 3 digits`,
    };
  }
  let offsetMinutes = 0;
  if (zulu === undefined) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59)
      return { ok: false, detail: `zone offset ${sign}${oh}:${om} is out of range` };
    offsetMinutes = (sign === '-' ? -1 : 1) * (offH * 60 + offM);
  }
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0'));
  // Not Date.UTC: it maps years 0–99 to 1900–1999, and fixing the year afterwards moves
  // 29 February of year 0 (leap) through 1900 (not leap) to 1 March.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return { ok: true, ms: date.getTime() - offsetMinutes * 60_000 };
}

/** UTC ISO-8601 with milliseconds, the only timestamp form callmon prints. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString();
}
