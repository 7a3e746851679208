import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventFingerprint, parseEvent } from './parse.ts';
import type { CallmonEvent } from './schema.ts';
import {
  contractTypes,
  fullEvents,
  line,
  minimalEvents,
  optionalFields,
  type WireObject,
  without,
} from './test-fixtures.ts';

function fingerprint(event: WireObject | string): string {
  const result = parseEvent(typeof event === 'string' ? event : line(event));
  if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
  return eventFingerprint(result.event);
}

/** A different valid value for every field an event can carry. */
const changedValues: WireObject = {
  id: 'other-id',
  force: 'other-force',
  at: '2024-02-19T21:04:05.124Z',
  source: 'sim',
  call: 'other-call',
  channel: '101',
  queue: 'other-queue',
  handler: 'other-handler',
  incident: 'other-incident',
  grade: 3,
  area: 'rural',
  district: 'other-district',
  unit: 'other-unit',
};

describe('event fingerprint', () => {
  const presented = fullEvents['call.presented'];

  it('the same content with a different zone spelling has the same fingerprint', () => {
    expect(fingerprint({ ...presented, at: '2024-02-19T22:04:05.123+01:00' })).toBe(
      fingerprint(presented),
    );
    expect(fingerprint({ ...presented, at: '2024-02-19T15:34:05.123-05:30' })).toBe(
      fingerprint(presented),
    );
  });

  it('the same instant written with a shorter fraction has the same fingerprint', () => {
    const base = { ...presented, at: '2024-02-19T21:04:05.100Z' };
    expect(fingerprint({ ...base, at: '2024-02-19T21:04:05.1Z' })).toBe(fingerprint(base));
  });

  it('unknown extra fields do not change the fingerprint', () => {
    expect(fingerprint({ ...presented, vendor_ref: 'X-99', nested: { a: 1 } })).toBe(
      fingerprint(presented),
    );
  });

  it('the order of fields on the wire does not change the fingerprint', () => {
    const reversed = Object.fromEntries(Object.entries(presented).reverse());
    expect(fingerprint(reversed)).toBe(fingerprint(presented));
  });

  it('whitespace in the JSON does not change the fingerprint', () => {
    expect(fingerprint(JSON.stringify(presented, null, 2))).toBe(fingerprint(presented));
  });

  it.each(
    contractTypes.flatMap((type) =>
      Object.keys(fullEvents[type])
        .filter((field) => field !== 'v' && field !== 'type')
        .map((field) => [type, field] as const),
    ),
  )('%s: a changed %s gives a different fingerprint', (type, field) => {
    const event = fullEvents[type];
    expect(event[field]).not.toEqual(changedValues[field]);
    expect(fingerprint({ ...event, [field]: changedValues[field] })).not.toBe(fingerprint(event));
  });

  it('the same fields under a different type give a different fingerprint', () => {
    const closed = minimalEvents['call.closed'];
    expect(fingerprint({ ...closed, type: 'call.abandoned' })).not.toBe(fingerprint(closed));
    const dispatched = minimalEvents['unit.dispatched'];
    expect(fingerprint({ ...dispatched, type: 'unit.arrived' })).not.toBe(fingerprint(dispatched));
  });
  it.each(
    contractTypes.flatMap((type) =>
      Object.keys(optionalFields[type]).map((f) => [type, f] as const),
    ),
  )('%s: an optional %s present or absent gives different fingerprints', (type, field) => {
    const event = fullEvents[type];
    expect(fingerprint(without(event, field))).not.toBe(fingerprint(event));
  });

  it('a value containing quotes and commas cannot imitate a field boundary', () => {
    const answered = minimalEvents['call.answered'];
    const honest = { ...answered, call: 'c', handler: 'h' };
    // Naively joined, this call id would spell out: call "c", channel and queue empty,
    // handler "h".
    const forged = { ...answered, call: 'c",,,"h' };
    expect(fingerprint(forged)).not.toBe(fingerprint(honest));
  });

  it('is every content field, in a fixed order, JSON-quoted when a string', () => {
    // The definition, written plainly; eventFingerprint is a faster spelling of it.
    const order = ['v', 'type', 'force', 'id', 'at', 'source', 'call', 'channel', 'queue'];
    const rest = ['handler', 'incident', 'grade', 'area', 'district', 'unit'];
    const reference = (event: Record<string, unknown>) =>
      [...order, ...rest]
        .map((name) => {
          const value = event[name];
          if (value === undefined) return ',';
          return `,${typeof value === 'number' ? value : JSON.stringify(value)}`;
        })
        .join('');
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u2028', '\ud800', '\udc00x', '😀', ''),
    );
    const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          v: fc.constant(1),
          type: text,
          force: text,
          id: text,
          at: fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
          source: maybe(text),
          call: maybe(text),
          channel: maybe(text),
          queue: maybe(text),
          handler: maybe(text),
          incident: maybe(text),
          grade: maybe(fc.integer({ min: 1, max: 4 })),
          area: maybe(text),
          district: maybe(text),
          unit: maybe(text),
        }),
        (event) => {
          expect(eventFingerprint(event as unknown as CallmonEvent)).toBe(reference(event));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
