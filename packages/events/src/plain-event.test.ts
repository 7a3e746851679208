import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventFingerprint, parseEvent } from './parse.ts';
import {
  PLAIN_FIELD_SLOTS,
  PLAIN_FIELDS,
  plainEvent,
  plainEventFrom,
  plainFingerprintLength,
  scanPlainEvent,
  writePlainFingerprint,
} from './plain-event.ts';
import { EVENT_TYPES } from './schema.ts';
import {
  bodyWithLabelsArb,
  eventBodyArb,
  linesWithFieldsAddedAndRemovedArb,
  lineWithOneFieldReplacedArb,
  spelledInstantArb,
} from './test-arbitraries.ts';
import { contractTypes, minimalEvents } from './test-fixtures.ts';

const encoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/**
 * Scan `line` inside a buffer with other bytes around it (as a batch of lines is), and
 * when the scan accepts, require parseEvent to accept the line with exactly the values
 * the scan located. Returns whether the scan accepted.
 */
function expectSound(line: string | Uint8Array): boolean {
  const bytes = typeof line === 'string' ? encoder.encode(line) : line;
  // The bytes around the line are ones that would be misread if the scan looked past it.
  const framed = new Uint8Array(bytes.length + 4);
  framed.set(encoder.encode('"}'), 0);
  framed.set(bytes, 2);
  framed.set(encoder.encode('}Z'), bytes.length + 2);
  const accepted = scanPlainEvent(framed, 2, 2 + bytes.length);
  if (!accepted) return false;
  const parsed = parseEvent(bytes);
  expect(parsed.ok, `parseEvent rejected a line the scan took: ${latin1.decode(bytes)}`).toBe(true);
  if (!parsed.ok) return true;
  const event = parsed.event as unknown as Record<string, unknown>;
  const { starts, ends } = plainEvent;
  for (let field = 0; field < PLAIN_FIELDS.length; field++) {
    const name = PLAIN_FIELDS[field]!;
    const start = starts[field]!;
    if (name === 'at' || name === 'grade' || name === 'v' || name === 'type') continue;
    const located = start < 0 ? undefined : latin1.decode(framed.subarray(start, ends[field]!));
    expect(located, `field ${name} of ${latin1.decode(bytes)}`).toBe(event[name]);
  }
  expect(EVENT_TYPES[plainEvent.type]).toBe(event.type);
  expect(plainEvent.at).toBe(event.at);
  expect(plainEvent.grade).toBe(event.grade ?? 0);
  expect(starts[PLAIN_FIELDS.indexOf('grade')]! >= 0).toBe(event.grade !== undefined);
  expect(starts[PLAIN_FIELDS.indexOf('v')]).toBeGreaterThanOrEqual(0);
  // Room to spare: a wrong length shows in what is written, not in a write out of bounds.
  const fingerprint = new Uint8Array(bytes.length * 2 + 64);
  const length = writePlainFingerprint(framed, fingerprint);
  expect(latin1.decode(fingerprint.subarray(0, length))).toBe(eventFingerprint(parsed.event));
  // Its length known before it is written, and written from an offset (inside a row).
  expect(plainFingerprintLength()).toBe(length);
  const inRow = new Uint8Array(length + 9).fill(0x23);
  expect(writePlainFingerprint(framed, inRow, 5)).toBe(5 + length);
  expect(latin1.decode(inRow.subarray(5, 5 + length))).toBe(eventFingerprint(parsed.event));
  expect([...inRow.subarray(0, 5), ...inRow.subarray(5 + length)]).toEqual(Array(9).fill(0x23));
  // The event too, to its key order (its JSON text is what the live feed sends), from the
  // scan's results in place and copied to an offset, as another thread builds it.
  const { type, at, grade } = plainEvent;
  const built = plainEventFrom(framed, plainEvent.fields, 0, type, at, grade);
  expect(built).toStrictEqual(parsed.event);
  expect(JSON.stringify(built)).toBe(JSON.stringify(parsed.event));
  const copied = new Int32Array(PLAIN_FIELD_SLOTS + 3).fill(-7);
  copied.set(plainEvent.fields, 3);
  expect(plainEventFrom(framed, copied, 3, type, at, grade)).toStrictEqual(parsed.event);
  expect(plainEventFrom(framed, copied, 3, type, at, grade, parsed.event.id)).toStrictEqual(
    parsed.event,
  );
  return true;
}

// Labels the scan takes itself: printable ASCII without a quote or backslash (which JSON escapes).
const plainLabelArb = fc.stringMatching(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,128}$/);

const plainBodyArb = bodyWithLabelsArb(plainLabelArb);

/** Spellings of the number 1 and of grades that JSON.parse reads as the same number. */
const numberSpellings = ['1.0', '1e0', '10e-1', '-0', '01', '1.', '+1', '0x1', ' 1 ', '2.0', '4e0'];

describe('scanPlainEvent: whatever it takes, parseEvent takes with the same values', () => {
  it('takes every valid event with plain ASCII labels (so it is not vacuous)', () => {
    fc.assert(
      fc.property(plainBodyArb, spelledInstantArb, (body, { at }) => {
        expect(expectSound(JSON.stringify({ ...body, at }))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees on valid events with any labels (escapes, non-ASCII, surrogates)', () => {
    fc.assert(
      fc.property(eventBodyArb, spelledInstantArb, (body, { at }) => {
        expectSound(JSON.stringify({ ...body, at }));
      }),
      { numRuns: 2000 },
    );
  });

  it('one field replaced by a boundary value or any JSON value', () => {
    fc.assert(
      fc.property(lineWithOneFieldReplacedArb(plainBodyArb), (line) => {
        expectSound(line);
      }),
      {
        numRuns: 4000,
      },
    );
  });

  it('one field removed, any fields added, keys in any order', () => {
    fc.assert(
      fc.property(linesWithFieldsAddedAndRemovedArb(plainBodyArb), (lines) => {
        for (const line of lines) expectSound(line);
      }),
      { numRuns: 3000 },
    );
  });

  it('numbers spelled other ways, repeated keys, whitespace, byte order marks', () => {
    for (const type of contractTypes) {
      const line = JSON.stringify(minimalEvents[type]);
      expect(expectSound(line)).toBe(true);
      for (const spelling of numberSpellings) {
        expectSound(line.replace('"v":1', `"v":${spelling}`));
        expectSound(line.replace('"grade":1', `"grade":${spelling}`));
        expectSound(line.replace('"grade":2', `"grade":${spelling}`));
      }
      // A repeated key: JSON.parse keeps the last copy.
      expectSound(line.replace('{', '{"id":"other",'));
      expectSound(line.replace('{', '{"type":"call.closed",'));
      expectSound(line.replace('{', '{"v":2,'));
      expectSound(line.replace('}', ',"force":"BAD"}'));
      expect(
        expectSound(` \t${line.replaceAll(',"', ' ,\r\n"').replaceAll('":', '" : ')}\r `),
      ).toBe(true);
      expectSound(`\uFEFF${line}`);
      expectSound(`${line}}`);
      expectSound(`${line},`);
      expectSound(`[${line}]`);
      expectSound(line.slice(0, -1));
      expectSound(line.replace('}', ',}'));
      expectSound(line.replace('{', '{,'));
      expectSound('{}');
      expectSound('');
      // Times before, at and just after 1970 (negative, zero and small milliseconds).
      for (const at of [
        '0001-01-01T00:00:00Z',
        '1969-12-31T23:59:59.999Z',
        '1970-01-01T00:00:00Z',
        '1970-01-01T01:00:00.001+01:00',
        '1970-01-01T00:00:00.009Z',
      ]) {
        expect(expectSound(JSON.stringify({ ...minimalEvents[type], at }))).toBe(true);
      }
    }
  });

  it('any byte changed, removed or inserted', () => {
    const bytesArb = fc
      .record({
        body: plainBodyArb,
        instant: spelledInstantArb,
        where: fc.nat(),
        how: fc.constantFrom('replace', 'remove', 'insert'),
        byte: fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(...encoder.encode('"\\{}[],:0123456789.eE-+ tfn\t\r\n')),
        ),
      })
      .map(({ body, instant, where, how, byte }) => {
        const line = encoder.encode(JSON.stringify({ ...body, at: instant.at }));
        const i = where % (line.length + 1);
        if (how === 'remove') return Uint8Array.from([...line.slice(0, i), ...line.slice(i + 1)]);
        if (how === 'insert') return Uint8Array.from([...line.slice(0, i), byte, ...line.slice(i)]);
        const copy = line.slice();
        if (i < copy.length) copy[i] = byte;
        return copy;
      });
    fc.assert(
      fc.property(bytesArb, (line) => {
        expectSound(line);
      }),
      { numRuns: 5000 },
    );
  });

  it('grades, channels and areas are taken exactly when parseEvent takes them', () => {
    const cases: Array<[string, unknown[]]> = [
      ['grade', [-1, 0, 1, 2, 3, 4, 5, 6, 9, 10, '2', 2.5, null, true]],
      ['channel', ['999', '101', '112', '99', '9999', 999, '']],
      ['area', ['urban', 'rural', 'urbam', 'Rural', 'suburban', '', 1]],
    ];
    for (const type of contractTypes) {
      for (const [field, values] of cases) {
        if (!(field in minimalEvents[type])) continue;
        for (const value of values) {
          const line = JSON.stringify({ ...minimalEvents[type], [field]: value });
          expect(expectSound(line), line).toBe(parseEvent(line).ok);
        }
      }
    }
  });

  it('labels at every length from 0 to 130 are taken exactly when parseEvent takes them', () => {
    for (const type of contractTypes) {
      for (let length = 0; length <= 130; length++) {
        const line = JSON.stringify({ ...minimalEvents[type], id: 'x'.repeat(length) });
        expect(expectSound(line)).toBe(length >= 1 && length <= 128);
      }
    }
  });
});
