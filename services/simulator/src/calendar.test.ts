import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localHourOf, UtcFormatter } from './calendar.ts';

describe('UtcFormatter', () => {
  it('formats exactly like Date.prototype.toISOString', () => {
    const formatter = new UtcFormatter();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        expect(formatter.format(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 5000 },
    );
  });

  it('is right across midnight, whichever order days come in', () => {
    const formatter = new UtcFormatter();
    const midnight = Date.parse('2024-02-20T00:00:00.000Z');
    for (const ms of [
      midnight - 1,
      midnight,
      midnight + 1,
      midnight - 86_400_000,
      midnight + 999,
    ]) {
      expect(formatter.format(ms)).toBe(new Date(ms).toISOString());
    }
  });
});

describe('localHourOf', () => {
  it('Europe/London is UTC in winter and UTC+1 in summer', () => {
    const london = localHourOf('Europe/London');
    // Monday 19 February 2024, 12:00 UTC
    expect(london(Date.parse('2024-02-19T12:00:00Z'))).toEqual({ dayOfWeek: 0, hour: 12 });
    // Saturday 6 July 2024, 23:30 UTC is Sunday 00:30 in London
    expect(london(Date.parse('2024-07-06T23:30:00Z'))).toEqual({ dayOfWeek: 6, hour: 0 });
  });

  it('UTC is the same without Intl', () => {
    expect(localHourOf('UTC')(Date.parse('2024-07-06T23:30:00Z'))).toEqual({
      dayOfWeek: 5,
      hour: 23,
    });
  });
});
