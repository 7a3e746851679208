import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventFingerprint, type ParseResult, parseEvent, REJECT_REASONS } from './parse.ts';
import { eventBodyArb, KNOWN_FIELDS, spelledInstantArb } from './test-arbitraries.ts';
import type { WireObject } from './test-fixtures.ts';

const encoder = new TextEncoder();

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
