import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptCommonEvent, fastEventTime } from './common-event.ts';
import { parseEventTime } from './event-time.ts';
import { type ParseResult, parseBySchema, parseEvent, parseEventObject } from './parse.ts';
import { EVENT_TYPES, type EventType } from './schema.ts';
import {
  bodyWithLabelsArb,
  eventBodyArb,
  forceArb,
  linesWithFieldsAddedAndRemovedArb,
  lineWithOneFieldReplacedArb,
  spelledInstantArb,
} from './test-arbitraries.ts';
import { contractTypes, minimalEvents } from './test-fixtures.ts';

/**
 * The schemas alone, as parseEvent worked before the fast path: parseEvent with
 * acceptCommonEvent taken out. The expected side of every comparison below.
 */
function parseBySchemaOnly(line: string): ParseResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  if (object.v !== 1 || !EVENT_TYPES.includes(object.type as EventType)) return undefined;
  return parseBySchema(object, object.type as EventType);
}

/** Equal results, and an accepted event's keys in the same order (what JSON.stringify shows). */
function expectSameResult(actual: ParseResult, expected: ParseResult): void {
  expect(actual).toStrictEqual(expected);
  if (actual.ok && expected.ok) {
    expect(Object.keys(actual.event)).toStrictEqual(Object.keys(expected.event));
  }
}

/** parseEvent (fast path first) against the schemas alone, from text and from bytes. */
function expectAgreement(line: string): ParseResult {
  const actual = parseEvent(line);
  const expected = parseBySchemaOnly(line);
  // Lines that never reach the schemas (not JSON, wrong v or type) are not the fast path's.
  if (expected !== undefined) expectSameResult(actual, expected);
  expectSameResult(parseEvent(new TextEncoder().encode(line)), actual);
  return actual;
}

// Labels the fast path takes itself: BMP text without surrogates, 1–128 UTF-16 units.
const plainLabelArb = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 128 });

/** A valid event of any type whose every label is plain, so the fast path must accept it. */
const plainBodyArb = bodyWithLabelsArb(plainLabelArb);

/** A time string with one character replaced, removed or inserted. */
const mutatedTimeArb = fc
  .record({
    at: spelledInstantArb.map(({ at }) => at),
    where: fc.nat(),
    how: fc.constantFrom('replace', 'remove', 'insert'),
    char: fc.constantFrom(...'0123456789-:.+TtZz x\u0660'),
  })
  .map(({ at, where, how, char }) => {
    const i = where % (at.length + 1);
    if (how === 'remove') return at.slice(0, i) + at.slice(i + 1);
    if (how === 'insert') return at.slice(0, i) + char + at.slice(i);
    return at.slice(0, i) + char + at.slice(i + 1);
  });

/** Syntactically well-formed times with any numbers in them, impossible dates included. */
const anyNumbersTimeArb = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.constantFrom('', '.', '.5', '.05', '.123', '.1234'),
    zone: fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+01:00', '-23:59', '+24:00', '+05:60'),
    t: fc.constantFrom('T', 't'),
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone, t }) => {
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${p(year, 4)}-${p(month)}-${p(day)}${t}${p(hour)}:${p(minute)}:${p(second)}${fraction}${zone}`;
  });

describe('the fast path returns exactly what the schemas return', () => {
  it('a valid event with plain labels is taken by the fast path, as the schemas build it', () => {
    fc.assert(
      fc.property(plainBodyArb, spelledInstantArb, (body, { at }) => {
        const object = JSON.parse(JSON.stringify({ ...body, at }));
        // Not vacuous: the fast path answers for every such event.
        expect(acceptCommonEvent(object, object.type)).toBeDefined();
        expect(expectAgreement(JSON.stringify({ ...body, at })).ok).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a valid event with any labels (surrogate pairs included) gets the same result', () => {
    fc.assert(
      fc.property(eventBodyArb, spelledInstantArb, (body, { at }) => {
        expectAgreement(JSON.stringify({ ...body, at }));
      }),
      { numRuns: 1000 },
    );
  });

  it('one field replaced by a boundary value, or by any JSON value, gets the same result', () => {
    fc.assert(
      fc.property(lineWithOneFieldReplacedArb(plainBodyArb), (line) => {
        expectAgreement(line);
      }),
      {
        numRuns: 3000,
      },
    );
  });

  it('one field removed, or any fields added in any order, gets the same result', () => {
    fc.assert(
      fc.property(linesWithFieldsAddedAndRemovedArb(plainBodyArb), (lines) => {
        for (const line of lines) expectAgreement(line);
      }),
      { numRuns: 2000 },
    );
  });

  it('a force code, valid or one character off, gets the same result', () => {
    fc.assert(
      fc.property(
        plainBodyArb,
        forceArb,
        fc.nat(),
        fc.constantFrom('A', '-', '_', '.', ' ', 'é', ''),
        (body, force, where, char) => {
          const i = where % (force.length + 1);
          for (const code of [force, force.slice(0, i) + char + force.slice(i + 1)]) {
            expectAgreement(JSON.stringify({ ...body, force: code, at: '2024-02-19T21:04:05Z' }));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an `at` with one character changed, removed or inserted gets the same result', () => {
    fc.assert(
      fc.property(plainBodyArb, mutatedTimeArb, (body, at) => {
        expectAgreement(JSON.stringify({ ...body, at }));
      }),
      { numRuns: 3000 },
    );
  });

  it('an `at` with impossible numbers gets the same result', () => {
    fc.assert(
      fc.property(plainBodyArb, anyNumbersTimeArb, (body, at) => {
        expectAgreement(JSON.stringify({ ...body, at }));
      }),
      { numRuns: 3000 },
    );
  });

  it('a valid event with labels at every length from 1 to 129 gets the same result', () => {
    for (const type of contractTypes) {
      for (let length = 0; length <= 130; length++) {
        expectAgreement(JSON.stringify({ ...minimalEvents[type], id: 'é'.repeat(length) }));
      }
    }
  });

  it('an optional field present as undefined (only from code, never from JSON) gets the same result', () => {
    for (const type of contractTypes) {
      for (const field of ['source', 'queue', 'handler', 'call', 'district']) {
        const object: Record<string, unknown> = { ...minimalEvents[type], [field]: undefined };
        expectSameResult(parseEventObject(object), parseBySchema(object, type));
      }
    }
  });
});

describe('fastEventTime agrees with parseEventTime', () => {
  /** Where the fast parser answers, parseEventTime accepts with the same milliseconds. */
  function expectSameTime(text: string): number {
    const fast = fastEventTime(text);
    if (!Number.isNaN(fast)) expect(parseEventTime(text)).toStrictEqual({ ok: true, ms: fast });
    return fast;
  }

  it('any valid spelling of an instant is read by the fast parser, to the same milliseconds', () => {
    fc.assert(
      fc.property(spelledInstantArb, ({ instant, at }) => {
        expect(expectSameTime(at)).toBe(instant);
      }),
      { numRuns: 3000 },
    );
  });

  it('well-formed times with any numbers, valid in every calendar corner or not, agree', () => {
    fc.assert(
      fc.property(anyNumbersTimeArb, (text) => {
        const fast = expectSameTime(text);
        // Every time parseEventTime accepts in this shape, the fast parser reads too.
        if (parseEventTime(text).ok) expect(fast).not.toBeNaN();
      }),
      { numRuns: 5000 },
    );
  });

  it('leap days in years 0, 100, 400, 1900, 2000 and 2024 agree', () => {
    for (const year of ['0000', '0100', '0400', '1900', '2000', '2024', '9999']) {
      for (const day of ['28', '29']) {
        const text = `${year}-02-${day}T23:59:59.999-23:59`;
        expect(Number.isNaN(expectSameTime(text))).toBe(!parseEventTime(text).ok);
      }
    }
  });

  it('times with one character changed never read differently', () => {
    fc.assert(
      fc.property(mutatedTimeArb, (text) => {
        expectSameTime(text);
      }),
      { numRuns: 5000 },
    );
  });
});
