import { describe, expect, it } from 'vitest';
import {
  CalendarError,
  isoWeekAfter,
  isoWeekOf,
  isoWeeksInYear,
  isoWeekWindow,
  localMidnightToUtc,
} from './calendar.ts';

/**
 * metrics.md §6: calendar windows are ISO weeks in the policy time zone,
 * `[local start, local end)` as UTC instants. Expected instants are worked by hand from
 * the UK clock changes (last Sunday of March and of October, at 01:00 UTC).
 */

const LONDON = 'Europe/London';
const HOUR = 3_600_000;
const utc = (text: string) => Date.parse(text);

describe('ISO weeks in Europe/London', () => {
  it('a winter week runs from Monday 00:00 GMT to the next Monday 00:00 GMT: 168 hours', () => {
    expect(isoWeekWindow('2024-W08', LONDON)).toEqual({
      from: utc('2024-02-19T00:00:00Z'),
      to: utc('2024-02-26T00:00:00Z'),
    });
  });

  it('a summer week runs from Monday 00:00 BST (Sunday 23:00 UTC)', () => {
    expect(isoWeekWindow('2024-W30', LONDON)).toEqual({
      from: utc('2024-07-21T23:00:00Z'),
      to: utc('2024-07-28T23:00:00Z'),
    });
  });

  it('2024-W13, which contains the spring clock change, lasts 167 hours', () => {
    const week = isoWeekWindow('2024-W13', LONDON);
    expect(week).toEqual({ from: utc('2024-03-25T00:00:00Z'), to: utc('2024-03-31T23:00:00Z') });
    expect(week.to - week.from).toBe(167 * HOUR);
  });

  it('2024-W43, which contains the autumn clock change, lasts 169 hours', () => {
    const week = isoWeekWindow('2024-W43', LONDON);
    expect(week).toEqual({ from: utc('2024-10-20T23:00:00Z'), to: utc('2024-10-28T00:00:00Z') });
    expect(week.to - week.from).toBe(169 * HOUR);
  });

  it('2020 has a week 53 (1 January 2020 was a Wednesday of a leap year ending on a Thursday)', () => {
    expect(isoWeeksInYear(2020)).toBe(53);
    expect(isoWeekWindow('2020-W53', LONDON)).toEqual({
      from: utc('2020-12-28T00:00:00Z'),
      to: utc('2021-01-04T00:00:00Z'),
    });
  });

  it('2021 has no week 53: asking for it is a CalendarError', () => {
    expect(isoWeeksInYear(2021)).toBe(52);
    expect(() => isoWeekWindow('2021-W53', LONDON)).toThrow(CalendarError);
  });

  it('week 1 is the week with 4 January in it, even when it starts in December', () => {
    expect(isoWeekWindow('2020-W01', LONDON).from).toBe(utc('2019-12-30T00:00:00Z'));
  });

  it.each([
    '2024-W8',
    '2024-w08',
    '2024W08',
    '24-W08',
    '2024-W00',
    '2024-W54',
    '2024-08',
    ' 2024-W08',
    '',
  ])('a malformed or impossible week %j is a CalendarError', (week) => {
    expect(() => isoWeekWindow(week, LONDON)).toThrow(CalendarError);
  });

  it('the instant of local Monday 00:00 BST belongs to the new week, 1 ms before to the old', () => {
    const mondayBst = utc('2024-04-01T00:00:00+01:00');
    expect(isoWeekOf(mondayBst, LONDON)).toBe('2024-W14');
    expect(isoWeekOf(mondayBst - 1, LONDON)).toBe('2024-W13');
    expect(isoWeekWindow('2024-W14', LONDON).from).toBe(mondayBst);
  });

  it('where local midnight falls in a clock-change gap, the day starts at the first instant after it', () => {
    // Iran moved its clocks from 00:00 (+03:30) to 01:00 (+04:30) on Monday 22 March 2021,
    // so ISO week 2021-W12 starts at local 01:00 (20:30 UTC) and lasts 167 hours.
    const week = isoWeekWindow('2021-W12', 'Asia/Tehran');
    expect(week).toEqual({ from: utc('2021-03-21T20:30:00Z'), to: utc('2021-03-28T19:30:00Z') });
    expect(isoWeekOf(week.from - 1, 'Asia/Tehran')).toBe('2021-W11');
    expect(isoWeekOf(week.from, 'Asia/Tehran')).toBe('2021-W12');
  });

  it('a day whose clocks go forward later that day still starts at its own midnight', () => {
    // New Zealand and New South Wales move their clocks at 02:00 local; by 00:00 UTC the
    // new offset is already in force, yet midnight itself is on the old one.
    expect(localMidnightToUtc('Pacific/Auckland', 2024, 9, 29)).toBe(utc('2024-09-28T12:00:00Z'));
    expect(localMidnightToUtc('Australia/Sydney', 2024, 10, 6)).toBe(utc('2024-10-05T14:00:00Z'));
    expect(localMidnightToUtc(LONDON, 2024, 3, 31)).toBe(utc('2024-03-31T00:00:00Z'));
    expect(localMidnightToUtc(LONDON, 2024, 10, 27)).toBe(utc('2024-10-26T23:00:00Z'));
  });

  it('the week of an instant is taken on the local calendar: Sunday 23:30 UTC in summer is Monday', () => {
    expect(isoWeekOf(utc('2024-07-28T23:30:00Z'), LONDON)).toBe('2024-W31');
    expect(isoWeekOf(utc('2024-07-28T23:30:00Z'), 'UTC')).toBe('2024-W30');
  });

  it('days in early January can belong to the last week of the year before', () => {
    expect(isoWeekOf(utc('2021-01-03T12:00:00Z'), LONDON)).toBe('2020-W53');
    expect(isoWeekOf(utc('2021-01-04T00:00:00Z'), LONDON)).toBe('2021-W01');
  });

  it('steps whole weeks either way, across a 53-week year and the clock changes', () => {
    expect(isoWeekAfter('2020-W52', LONDON)).toBe('2020-W53');
    expect(isoWeekAfter('2020-W53', LONDON)).toBe('2021-W01');
    expect(isoWeekAfter('2021-W01', LONDON, -1)).toBe('2020-W53');
    expect(isoWeekAfter('2024-W13', LONDON)).toBe('2024-W14'); // clocks go forward on 31 March
    expect(isoWeekAfter('2024-W44', LONDON, -1)).toBe('2024-W43'); // and back on 27 October
    expect(isoWeekAfter('2024-W02', LONDON, -4)).toBe('2023-W50');
    expect(isoWeekAfter('2024-W08', LONDON, 0)).toBe('2024-W08');
  });
});
