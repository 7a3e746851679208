/**
 * fast-check arbitraries for wire events, shared by the property tests: valid events of
 * every type built from the contract's fixtures, and RFC 3339 spellings of instants.
 */
import fc from 'fast-check';
import type { EventType } from './schema.ts';
import { contractTypes, fullEvents, optionalFields, type WireObject } from './test-fixtures.ts';

/** Every field the contract defines, across all types. */
export const KNOWN_FIELDS = [
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

// Up to 64 code points is at most 128 UTF-16 units, inside the label limit.
export const labelArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 64 });
export const forceArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,31}$/);

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
export const eventBodyArb = fc
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
export const spelledInstantArb = fc
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

/**
 * A valid event of any type (eventBodyArb) with every label drawn from `labelArb`: the
 * events a fast path must take itself when `labelArb` gives only labels it handles.
 */
export function bodyWithLabelsArb(labelArb: fc.Arbitrary<string>): fc.Arbitrary<WireObject> {
  return fc
    .record({ body: eventBodyArb, labels: fc.array(labelArb, { minLength: 8, maxLength: 8 }) })
    .map(({ body, labels }) => {
      const plain: WireObject = { ...body };
      let next = 0;
      for (const key of [
        'id',
        'source',
        'call',
        'queue',
        'handler',
        'incident',
        'district',
        'unit',
      ]) {
        if (key in plain) plain[key] = labels[next++];
      }
      return plain;
    });
}

/** Values near every boundary a field has, of the right JSON type and of others. */
export const boundaryValueArb = fc.constantFrom<unknown>(
  '',
  'x',
  'x'.repeat(128),
  'x'.repeat(129),
  'a\\b',
  'a"b',
  'a\u007fb',
  'é',
  '\uD800',
  'a\uD83D\uDE00',
  '\uFEFFx',
  '999',
  '101',
  '999 ',
  'urban',
  'rural',
  'Urban',
  'ab',
  'a',
  '-ab',
  'AB',
  'a'.repeat(32),
  'a'.repeat(33),
  'call.presented',
  'call.presented ',
  '2024-02-19T21:04:05Z',
  '2024-02-19T21:04:05.1234Z',
  '2024-02-19T21:04:05',
  0,
  -0,
  1,
  2,
  4,
  5,
  1.5,
  1e3,
  -1,
  '1',
  999,
  true,
  false,
  null,
  [],
  {},
  { v: 1 },
  'a\uDC00',
  '0999',
  '2024-02-19 21:04:05Z',
);

/**
 * An event from `bodyArb`, with an `at`, and one field — known, `extra` or `__proto__` (as
 * an own key, not the prototype) — set to a boundary value or any JSON value: as a line.
 */
export function lineWithOneFieldReplacedArb(
  bodyArb: fc.Arbitrary<WireObject>,
): fc.Arbitrary<string> {
  return fc
    .tuple(
      bodyArb,
      spelledInstantArb,
      fc.constantFrom(...KNOWN_FIELDS, 'extra', '__proto__'),
      fc.oneof(boundaryValueArb, fc.jsonValue()),
    )
    .map(([body, { at }, field, value]) => {
      const event: WireObject = { ...body, at };
      Object.defineProperty(event, field, { value, enumerable: true });
      return JSON.stringify(event);
    });
}

/**
 * An event from `bodyArb`, with an `at` and up to three fields added (any names, boundary or
 * any JSON values): as a line with its keys in order or reversed, and as a line with one
 * known field removed.
 */
export function linesWithFieldsAddedAndRemovedArb(
  bodyArb: fc.Arbitrary<WireObject>,
): fc.Arbitrary<[added: string, removed: string]> {
  return fc
    .tuple(
      bodyArb,
      spelledInstantArb,
      fc.constantFrom(...KNOWN_FIELDS),
      fc.dictionary(fc.string(), fc.oneof(boundaryValueArb, fc.jsonValue()), { maxKeys: 3 }),
      fc.boolean(),
    )
    .map(([body, { at }, removed, extra, reversed]) => {
      const event: WireObject = { ...extra, ...body, at };
      const entries = Object.entries(event);
      if (reversed) entries.reverse();
      const added = JSON.stringify(Object.fromEntries(entries));
      delete event[removed];
      return [added, JSON.stringify(event)];
    });
}
