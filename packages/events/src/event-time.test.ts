import { describe, expect, it } from 'vitest';
import { parseEvent } from './parse.ts';
import { minimalEvents } from './test-fixtures.ts';

const DAY_MS = 86_400_000;
/** 400 Gregorian years are exactly 146 097 days, so Date.UTC can reach years 0–99 by shifting. */
const GREGORIAN_CYCLE_MS = 146_097 * DAY_MS;

function parseAt(at: unknown) {
  return parseEvent(JSON.stringify({ ...minimalEvents['call.answered'], at }));
}

function acceptedAt(at: string): number {
  const result = parseAt(at);
  if (!result.ok) throw new Error(`${at} was rejected: ${result.detail}`);
  return result.event.at;
}

function expectRejectedAt(at: unknown) {
  const result = parseAt(at);
  expect(result).toMatchObject({ ok: false, reason: 'invalid_field', field: 'at' });
  return result;
}

describe('at: zones', () => {
  const instant = Date.UTC(2024, 1, 19, 21, 4, 5, 123);

  it('a Z timestamp is stored as its UTC milliseconds', () => {
    expect(acceptedAt('2024-02-19T21:04:05.123Z')).toBe(instant);
  });

  it('a +01:00 offset is normalised to the same UTC milliseconds as Z', () => {
    expect(acceptedAt('2024-02-19T22:04:05.123+01:00')).toBe(instant);
  });

  it('a -05:30 offset is normalised to the same UTC milliseconds as Z', () => {
    expect(acceptedAt('2024-02-19T15:34:05.123-05:30')).toBe(instant);
  });

  it('an offset that moves the instant across midnight, month and year is normalised', () => {
    expect(acceptedAt('2025-01-01T00:30:00+01:00')).toBe(Date.UTC(2024, 11, 31, 23, 30));
    expect(acceptedAt('2024-12-31T23:30:00-05:30')).toBe(Date.UTC(2025, 0, 1, 5, 0));
  });

  it('+00:00 and -00:00 mean UTC', () => {
    expect(acceptedAt('2024-02-19T21:04:05.123+00:00')).toBe(instant);
    expect(acceptedAt('2024-02-19T21:04:05.123-00:00')).toBe(instant);
  });

  it('lower-case t and z are accepted, as RFC 3339 allows', () => {
    expect(acceptedAt('2024-02-19t21:04:05.123z')).toBe(instant);
  });

  it('a timestamp without a zone is rejected as invalid_field on at', () => {
    const result = expectRejectedAt('2024-02-19T21:04:05.123');
    expect(result.ok === false && result.detail).toMatch(/no zone/);
    expectRejectedAt('2024-02-19T21:04:05');
    expectRejectedAt('2024-02-19T21:04');
  });

  it('a date without a time is rejected as invalid_field on at', () => {
    expectRejectedAt('2024-02-19');
  });

  it('a zone offset out of range is rejected', () => {
    expectRejectedAt('2024-02-19T21:04:05Z+01:00');
    expectRejectedAt('2024-02-19T21:04:05+24:00');
    expectRejectedAt('2024-02-19T21:04:05+01:60');
  });

  it('zone spellings outside RFC 3339 (+0100, +01, UTC, named zones) are rejected', () => {
    expectRejectedAt('2024-02-19T21:04:05+0100');
    expectRejectedAt('2024-02-19T21:04:05+01');
    expectRejectedAt('2024-02-19T21:04:05 UTC');
    expectRejectedAt('2024-02-19T21:04:05 Europe/London');
  });
});

describe('at: precision', () => {
  it('a timestamp without a fraction is accepted at whole seconds', () => {
    expect(acceptedAt('2024-02-19T21:04:05Z')).toBe(Date.UTC(2024, 1, 19, 21, 4, 5));
  });

  it('a one-digit fraction is tenths of a second', () => {
    expect(acceptedAt('2024-02-19T21:04:05.1Z')).toBe(Date.UTC(2024, 1, 19, 21, 4, 5, 100));
  });

  it('a two-digit fraction is hundredths of a second', () => {
    expect(acceptedAt('2024-02-19T21:04:05.12Z')).toBe(Date.UTC(2024, 1, 19, 21, 4, 5, 120));
  });

  it('a three-digit fraction is milliseconds', () => {
    expect(acceptedAt('2024-02-19T21:04:05.007Z')).toBe(Date.UTC(2024, 1, 19, 21, 4, 5, 7));
  });

  it('a fraction of 4 or more digits is rejected, even when the extra digits are zero', () => {
    for (const at of [
      '2024-02-19T21:04:05.1234Z',
      '2024-02-19T21:04:05.1230Z',
      '2024-02-19T21:04:05.123456+01:00',
      '2024-02-19T21:04:05.123456789Z',
    ]) {
      const result = expectRejectedAt(at);
      expect(result.ok === false && result.detail).toMatch(/milliseconds/);
    }
  });

  it('a decimal point without digits is rejected', () => {
    expectRejectedAt('2024-02-19T21:04:05.Z');
  });
});

describe('at: calendar', () => {
  it.each([
    ['2024-02-30T12:00:00Z', '30 February'],
    ['2023-02-29T12:00:00Z', '29 February of a common year'],
    ['1900-02-29T12:00:00Z', '29 February of a century that is not a leap year'],
    ['2024-04-31T12:00:00Z', '31 April'],
    ['2024-13-01T12:00:00Z', 'month 13'],
    ['2024-00-10T12:00:00Z', 'month 0'],
    ['2024-01-00T12:00:00Z', 'day 0'],
    ['2024-01-32T12:00:00Z', 'day 32'],
    ['2024-02-19T24:00:00Z', 'hour 24'],
    ['2024-02-19T21:60:00Z', 'minute 60'],
    ['2024-02-19T21:04:60Z', 'second 60 (a leap second)'],
  ])('an impossible date-time %s (%s) is rejected', (at) => {
    expectRejectedAt(at);
  });

  it('the leap day 2024-02-29 is accepted', () => {
    expect(acceptedAt('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
  });

  it('the leap day of a year divisible by 400 (2000-02-29) is accepted', () => {
    expect(acceptedAt('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
  });

  it('years 0–99 are taken as written, not as 1900–1999', () => {
    expect(acceptedAt('0099-12-31T23:59:59Z')).toBe(
      Date.UTC(2099, 11, 31, 23, 59, 59) - 5 * GREGORIAN_CYCLE_MS,
    );
    // Year 0 is a leap year; 1900, where Date.UTC would put it, is not.
    expect(acceptedAt('0000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29) - 5 * GREGORIAN_CYCLE_MS);
  });
});

describe('at: form', () => {
  it('a space instead of T between date and time is rejected', () => {
    expectRejectedAt('2024-02-19 21:04:05Z');
  });

  it('a number (epoch milliseconds) is rejected as invalid_field on at', () => {
    expectRejectedAt(Date.UTC(2024, 1, 19));
  });

  it('fields without leading zeros are rejected', () => {
    expectRejectedAt('2024-2-19T21:04:05Z');
    expectRejectedAt('2024-02-19T9:04:05Z');
  });

  it('non-ASCII digits are rejected', () => {
    expectRejectedAt('٢٠٢٤-02-19T21:04:05Z');
  });

  it('surrounding whitespace is rejected', () => {
    expectRejectedAt(' 2024-02-19T21:04:05Z');
    expectRejectedAt('2024-02-19T21:04:05Z\n');
  });

  it('an empty or null at is rejected as invalid_field', () => {
    expectRejectedAt('');
    expectRejectedAt(null);
  });
});
