import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventFingerprint, type ParseResult, parseEvent, REJECT_REASONS } from './parse.ts';
import type { EventType } from './schema.ts';
import { contractTypes, fullEvents, optionalFields, type WireObject } from './test-fixtures.ts';

const encoder = new TextEncoder();

/** Every field the contract defines, across all types. */
const KNOWN_FIELDS = [
  'v',
  'id',
  'type',
  'force',
  'at',
  'source',
  'call',
  'channel',
  'queue',
  'handler',
  'incident',
  'grade',
  'area',
  'district',
  'unit',
];

/** The result is an event or a documented reason with a detail; never anything else. */
function expectWellFormed(result: ParseResult): void {
  if (result.ok) {
    expect(Number.isFinite(result.event.at)).toBe(true);
    return;
  }
  expect(REJECT_REASONS).toContain(result.reason);
  expect(typeof result.detail).toBe('string');
  expect(result.detail.length).toBeGreaterThan(0);
}

// Up to 64 code points is at most 128 UTF-16 units, inside the label limit.
const labelArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 64 });
const forceArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,31}$/);

const fieldValuesArb = fc.record({
  id: labelArb,
  force: forceArb,
  source: labelArb,
  call: labelArb,
  channel: fc.constantFrom('999', '101'),
  queue: labelArb,
  handler: labelArb,
  incident: labelArb,
  grade: fc.integer({ min: 1, max: 4 }),
  area: fc.constantFrom('urban', 'rural'),
  district: labelArb,
  unit: labelArb,
});

/** A valid event of any type, without `at`, with a random choice of its optional fields. */
const eventBodyArb = fc
  .record({
    type: fc.constantFrom(...contractTypes),
    values: fieldValuesArb,
    omitted: fc.subarray(['source', 'queue', 'handler', 'call', 'district']),
  })
  .map(({ type, values, omitted }) => {
    const body: WireObject = { v: 1, type };
    for (const field of Object.keys(fullEvents[type as EventType])) {
      if (field === 'v' || field === 'type' || field === 'at') continue;
      if (field in optionalFields[type] && omitted.includes(field)) continue;
      body[field] = values[field as keyof typeof values];
    }
    return body;
  });

// Offsets of ±23:59 are the widest RFC 3339 allows.
const MAX_OFFSET_MINUTES = 23 * 60 + 59;

/** An instant, and an RFC 3339 spelling of it in a random zone at a random precision. */
const spelledInstantArb = fc
  .record({
    ms: fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
    digits: fc.integer({ min: 0, max: 3 }),
    offsetMinutes: fc.integer({ min: -MAX_OFFSET_MINUTES, max: MAX_OFFSET_MINUTES }),
    zulu: fc.boolean(),
  })
  .map(({ ms, digits, offsetMinutes, zulu }) => {
    const unit = 10 ** (3 - digits);
    const instant = ms - (ms % unit);
    // Date's own formatter writes the local wall-clock time; only the zone is ours.
    const wall = new Date(instant + offsetMinutes * 60_000).toISOString();
    const fraction = digits === 0 ? '' : `.${wall.slice(20, 20 + digits)}`;
    const abs = Math.abs(offsetMinutes);
    const zone =
      offsetMinutes === 0 && zulu
        ? 'Z'
        : `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return { instant, at: `${wall.slice(0, 19)}${fraction}${zone}` };
  });

describe('parseEvent on arbitrary input', () => {
  it('never throws on arbitrary text and rejects with a reason from REJECT_REASONS', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expectWellFormed(parseEvent(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on text made of JSON punctuation and contract words', () => {
    const piece = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '"v"',
      '1',
      '"type"',
      '"call.presented"',
      '"at"',
      '"2024-02-19T21:04:05Z"',
      'null',
      '\uFEFF',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        expectWellFormed(parseEvent(pieces.join('')));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary bytes and rejects with a reason from REJECT_REASONS', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expectWellFormed(parseEvent(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expectWellFormed(parseEvent(text));
        expectWellFormed(parseEvent(encoder.encode(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a valid event with one field replaced, removed or added', () => {
    const fieldArb = fc.constantFrom(...KNOWN_FIELDS, 'extra', '__proto__');
    fc.assert(
      fc.property(
        eventBodyArb,
        fieldArb,
        fc.option(fc.jsonValue(), { nil: undefined }),
        (body, field, value) => {
          const event: WireObject = { ...body, at: '2024-02-19T21:04:05Z' };
          if (value === undefined) delete event[field];
          else Object.defineProperty(event, field, { value, enumerable: true });
          expectWellFormed(parseEvent(JSON.stringify(event)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on a valid event with one byte changed', () => {
    fc.assert(
      fc.property(eventBodyArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (body, where, byte) => {
        const bytes = encoder.encode(JSON.stringify({ ...body, at: '2024-02-19T21:04:05Z' }));
        bytes[where % bytes.length] = byte;
        expectWellFormed(parseEvent(bytes));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('valid events', () => {
  it('a valid event in any zone and precision parses back to the same UTC milliseconds', () => {
    fc.assert(
      fc.property(eventBodyArb, spelledInstantArb, (body, { instant, at }) => {
        const result = parseEvent(JSON.stringify({ ...body, at }));
        expect(result).toEqual({ ok: true, event: { ...body, at: instant } });
      }),
      { numRuns: 1000 },
    );
  });

  it('a valid event parses the same from text and from UTF-8 bytes', () => {
    fc.assert(
      fc.property(eventBodyArb, spelledInstantArb, (body, { at }) => {
        const text = JSON.stringify({ ...body, at });
        expect(parseEvent(encoder.encode(text))).toEqual(parseEvent(text));
      }),
    );
  });

  it('zone spelling and unknown extra fields never change the fingerprint', () => {
    fc.assert(
      fc.property(
        eventBodyArb,
        spelledInstantArb,
        fc.dictionary(
          fc.string().filter((key) => !KNOWN_FIELDS.includes(key)),
          fc.jsonValue(),
        ),
        (body, { instant, at }, extra) => {
          const canonical = parseEvent(
            JSON.stringify({ ...body, at: new Date(instant).toISOString() }),
          );
          const respelled = parseEvent(JSON.stringify({ ...extra, ...body, at }));
          if (!canonical.ok || !respelled.ok) throw new Error('valid event rejected');
          expect(eventFingerprint(respelled.event)).toBe(eventFingerprint(canonical.event));
        },
      ),
    );
  });
});
