import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES, parseEvent, parseEventObject, REJECT_REASONS } from './parse.ts';
import {
  contractTypes,
  fullEvents,
  line,
  minimalEvents,
  requiredFields,
  type WireObject,
  without,
} from './test-fixtures.ts';

const presented = minimalEvents['call.presented'];
const opened = minimalEvents['incident.opened'];
const encoder = new TextEncoder();

function rejection(input: string | Uint8Array | WireObject) {
  const result = parseEvent(
    typeof input === 'object' && !(input instanceof Uint8Array) ? line(input) : input,
  );
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return result;
}

function accepted(input: string | Uint8Array | WireObject) {
  const result = parseEvent(
    typeof input === 'object' && !(input instanceof Uint8Array) ? line(input) : input,
  );
  if (!result.ok) throw new Error(`expected acceptance, got ${result.reason}: ${result.detail}`);
  return result.event;
}

describe('event types', () => {
  it.each(contractTypes)('a %s with only its required fields is accepted', (type) => {
    const event = accepted(minimalEvents[type]);
    expect(event.type).toBe(type);
  });

  it.each(contractTypes)('a %s with all its optional fields is accepted and keeps them', (type) => {
    const { at, ...rest } = fullEvents[type];
    expect(accepted(fullEvents[type])).toEqual({ ...rest, at: Date.parse(at as string) });
  });

  it.each(
    contractTypes.flatMap((type) => requiredFields[type].map((field) => [type, field] as const)),
  )('a %s without %s is rejected as missing_field on that field', (type, field) => {
    expect(rejection(without(minimalEvents[type], field))).toMatchObject({
      reason: 'missing_field',
      field,
    });
  });

  it('an unknown type is rejected as unknown_type', () => {
    expect(rejection({ ...presented, type: 'call.transferred' })).toMatchObject({
      reason: 'unknown_type',
      field: 'type',
    });
  });

  it('type names are exact: different case or spelling is an unknown_type', () => {
    for (const type of ['Call.Presented', 'call_presented', 'call.presented ', 'call', '']) {
      expect(rejection({ ...presented, type }).reason).toBe('unknown_type');
    }
  });

  it('a non-string type is rejected as unknown_type', () => {
    expect(rejection({ ...presented, type: 7 }).reason).toBe('unknown_type');
    expect(rejection({ ...presented, type: null }).reason).toBe('unknown_type');
  });

  it('names inherited by every JavaScript object are not event types', () => {
    for (const type of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(rejection({ ...presented, type }).reason).toBe('unknown_type');
    }
  });
});

describe('v: the contract version', () => {
  it('v = 1 is accepted', () => {
    expect(accepted(presented).v).toBe(1);
  });

  it.each([0, 2, 11, -1, 1.5])('v = %s is rejected as unsupported_version', (v) => {
    expect(rejection({ ...presented, v })).toMatchObject({
      reason: 'unsupported_version',
      field: 'v',
    });
  });

  it('v as a string ("1") is rejected as unsupported_version', () => {
    expect(rejection({ ...presented, v: '1' }).reason).toBe('unsupported_version');
  });

  it('v = null is rejected as unsupported_version', () => {
    expect(rejection({ ...presented, v: null }).reason).toBe('unsupported_version');
  });

  it('a missing v is rejected as missing_field on v', () => {
    expect(rejection(without(presented, 'v'))).toMatchObject({
      reason: 'missing_field',
      field: 'v',
    });
  });

  it('the version is checked before the type, so a future version with new types reads as unsupported_version', () => {
    expect(rejection({ ...presented, v: 2, type: 'call.transferred' }).reason).toBe(
      'unsupported_version',
    );
  });
});

/** Every identifier and label of the contract, with an event type that carries it. */
const labelFields = [
  ['call.presented', 'id'],
  ['call.presented', 'call'],
  ['call.presented', 'queue'],
  ['call.presented', 'source'],
  ['call.answered', 'handler'],
  ['incident.opened', 'incident'],
  ['incident.opened', 'call'],
  ['incident.opened', 'district'],
  ['unit.arrived', 'unit'],
] as const;

describe('identifiers and labels: 1–128 characters', () => {
  it.each(labelFields)('%s: a %s of 1 character is accepted', (type, field) => {
    expect(accepted({ ...fullEvents[type], [field]: 'x' })).toMatchObject({ [field]: 'x' });
  });

  it.each(labelFields)('%s: a %s of 128 characters is accepted', (type, field) => {
    const value = 'x'.repeat(128);
    expect(accepted({ ...fullEvents[type], [field]: value })).toMatchObject({ [field]: value });
  });

  it.each(labelFields)('%s: a %s of 129 characters is rejected as invalid_field', (type, field) => {
    expect(rejection({ ...fullEvents[type], [field]: 'x'.repeat(129) })).toMatchObject({
      reason: 'invalid_field',
      field,
    });
  });

  it.each(labelFields)('%s: an empty %s is rejected as invalid_field', (type, field) => {
    expect(rejection({ ...fullEvents[type], [field]: '' })).toMatchObject({
      reason: 'invalid_field',
      field,
    });
  });

  it.each(labelFields)('%s: a null %s is rejected as invalid_field', (type, field) => {
    expect(rejection({ ...fullEvents[type], [field]: null })).toMatchObject({
      reason: 'invalid_field',
      field,
    });
  });

  it.each([
    ['call.presented', 'queue'],
    ['call.presented', 'source'],
    ['call.answered', 'handler'],
    ['incident.opened', 'call'],
    ['incident.opened', 'district'],
  ] as const)('%s: the optional %s may be absent', (type, field) => {
    expect(accepted(without(fullEvents[type], field))).not.toHaveProperty(field);
  });

  it('labels keep non-ASCII text as sent', () => {
    expect(accepted({ ...presented, queue: 'Überlauf–nord' })).toMatchObject({
      queue: 'Überlauf–nord',
    });
  });

  it.each([
    ['call.presented', 'id', 123],
    ['call.presented', 'call', 123],
    ['call.presented', 'source', 1],
    ['incident.opened', 'incident', 5531],
    ['unit.arrived', 'unit', 12],
    ['call.answered', 'handler', 17],
    ['call.presented', 'force', 1],
    ['call.presented', 'call', true],
    ['call.presented', 'call', ['nth-000123']],
    ['call.presented', 'call', { id: 'nth-000123' }],
  ] as const)('%s: %s = %j (not a string) is rejected as invalid_field', (type, field, value) => {
    expect(rejection({ ...fullEvents[type], [field]: value })).toMatchObject({
      reason: 'invalid_field',
      field,
    });
  });
});

describe('force code', () => {
  it.each(['northants', 'met', 'ab', '1st-force', 'avon-and-somerset', 'a'.repeat(32)])(
    'force %s is accepted',
    (force) => {
      expect(accepted({ ...presented, force }).force).toBe(force);
    },
  );

  it.each([
    ['Northants', 'upper case'],
    ['NORTHANTS', 'upper case'],
    ['n', 'too short'],
    ['', 'empty'],
    ['a'.repeat(33), '33 characters'],
    ['-northants', 'a leading hyphen'],
    ['north_ants', 'an underscore'],
    ['north ants', 'a space'],
    ['northants\n', 'a trailing newline'],
    ['nörthants', 'a non-ASCII letter'],
  ])('force %j (%s) is rejected as invalid_field on force', (force) => {
    expect(rejection({ ...presented, force })).toMatchObject({
      reason: 'invalid_field',
      field: 'force',
    });
  });
});

describe('channel, grade, area', () => {
  it.each(['999', '101'])('channel "%s" is accepted', (channel) => {
    expect(accepted({ ...presented, channel })).toMatchObject({ channel });
  });

  it.each([999, 101, '112', '', ' 999', null])(
    'channel %j is rejected as invalid_field on channel',
    (channel) => {
      expect(rejection({ ...presented, channel })).toMatchObject({
        reason: 'invalid_field',
        field: 'channel',
      });
    },
  );

  it.each([1, 2, 3, 4])('grade %d is accepted', (grade) => {
    expect(accepted({ ...opened, grade })).toMatchObject({ grade });
    expect(accepted({ ...minimalEvents['incident.regraded'], grade })).toMatchObject({ grade });
  });

  it.each([0, 5, -1, 1.5, '1', null, true])(
    'grade %j is rejected as invalid_field on grade',
    (grade) => {
      expect(rejection({ ...opened, grade })).toMatchObject({
        reason: 'invalid_field',
        field: 'grade',
      });
      expect(rejection({ ...minimalEvents['incident.regraded'], grade })).toMatchObject({
        reason: 'invalid_field',
        field: 'grade',
      });
    },
  );

  it('a grade written 1.0 in JSON is the integer 1', () => {
    const text = line(opened).replace('"grade":1', '"grade":1.0');
    expect(text).toContain('"grade":1.0');
    expect(accepted(text)).toMatchObject({ grade: 1 });
  });

  it.each(['urban', 'rural'])('area "%s" is accepted', (area) => {
    expect(accepted({ ...opened, area })).toMatchObject({ area });
  });

  it.each(['Urban', 'suburban', '', null, 1])(
    'area %j is rejected as invalid_field on area',
    (area) => {
      expect(rejection({ ...opened, area })).toMatchObject({
        reason: 'invalid_field',
        field: 'area',
      });
    },
  );
});

describe('unknown extra fields', () => {
  it('unknown extra fields are accepted and dropped from the parsed event', () => {
    const event = accepted({
      ...presented,
      vendor_ref: 'X-99',
      priority: 3,
      nested: { deep: [1, 2, { a: null }] },
      extra_null: null,
    });
    expect(event).toEqual(accepted(presented));
    expect(Object.keys(event).sort()).toEqual(Object.keys(presented).sort());
  });

  it('a field of one type sent on another type is an unknown field, dropped', () => {
    const event = accepted({ ...minimalEvents['call.abandoned'], unit: 'NR12', grade: 9 });
    expect(event).not.toHaveProperty('unit');
    expect(event).not.toHaveProperty('grade');
  });

  it('an extra field named __proto__ is dropped and cannot change the event prototype', () => {
    const text = line(presented).replace(/}$/, ',"__proto__":{"polluted":true}}');
    const event = accepted(text);
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect((event as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decoding', () => {
  it.each([
    ['an array', '[]'],
    ['an array of events', `[${line(presented)}]`],
    ['a string', '"call.presented"'],
    ['a number', '42'],
    ['null', 'null'],
    ['a boolean', 'true'],
  ])('JSON that is %s is rejected as not_an_object', (_what, text) => {
    expect(rejection(text).reason).toBe('not_an_object');
  });

  it.each([
    ['empty input', ''],
    ['whitespace only', '   '],
    ['an unterminated object', '{"v":1'],
    ['single quotes', "{'v':1}"],
    ['a trailing comma', line(presented).replace(/}$/, ',}')],
    ['two events in one message', `${line(presented)}${line(opened)}`],
    ['two NDJSON lines in one input', `${line(presented)}\n${line(opened)}`],
    ['NaN', '{"v":NaN}'],
    ['a comment', `/* x */${line(presented)}`],
  ])('%s is rejected as invalid_json', (_what, text) => {
    expect(rejection(text).reason).toBe('invalid_json');
  });

  it('whitespace around the object, such as a line ending, is allowed', () => {
    expect(accepted(` ${line(presented)}\r\n`).type).toBe('call.presented');
  });

  it('an event as UTF-8 bytes parses exactly like the same event as text', () => {
    const text = line({ ...fullEvents['call.presented'], queue: 'Überlauf–nord' });
    expect(parseEvent(encoder.encode(text))).toEqual(parseEvent(text));
  });

  it.each([
    ['a lone 0xff byte', [0xff]],
    ['a UTF-16 byte order mark', [0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]],
    ['a truncated two-byte sequence', [0x7b, 0xc3, 0x7d]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['Latin-1 text', [...encoder.encode('{"queue":"'), 0xdc, ...encoder.encode('"}')]],
  ])('binary junk (%s) is rejected as invalid_encoding', (_what, bytes) => {
    expect(rejection(new Uint8Array(bytes)).reason).toBe('invalid_encoding');
  });

  it('a valid event with one invalid UTF-8 byte inside a label is rejected as invalid_encoding', () => {
    const bytes = encoder.encode(line({ ...presented, queue: 'q?' }));
    bytes[bytes.indexOf('?'.charCodeAt(0))] = 0xfe;
    expect(rejection(bytes).reason).toBe('invalid_encoding');
  });

  it('a leading UTF-8 byte order mark is ignored, in bytes and in text alike', () => {
    const text = line(presented);
    expect(accepted(new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode(text)])).id).toBe(
      presented.id,
    );
    expect(accepted(`\uFEFF${text}`).id).toBe(presented.id);
  });
});

describe('size limit', () => {
  /** The event, padded with an unknown field to exactly `bytes` bytes of UTF-8. */
  function eventOfSize(bytes: number, padChar = 'x'): string {
    const bare = line({ ...presented, pad: '' });
    const padBytes = encoder.encode(padChar).byteLength;
    const room = bytes - encoder.encode(bare).byteLength;
    if (room % padBytes !== 0) throw new Error('size not reachable with this pad character');
    const text = line({ ...presented, pad: padChar.repeat(room / padBytes) });
    expect(encoder.encode(text).byteLength).toBe(bytes);
    return text;
  }

  it('the limit is 64 KiB', () => {
    expect(MAX_EVENT_BYTES).toBe(65_536);
  });

  it('an event of exactly 65 536 bytes is accepted, as text and as bytes', () => {
    const text = eventOfSize(65_536);
    expect(accepted(text).id).toBe(presented.id);
    expect(accepted(encoder.encode(text)).id).toBe(presented.id);
  });

  it('an event of 65 537 bytes is rejected as too_large, as text and as bytes', () => {
    const text = eventOfSize(65_537);
    expect(rejection(text).reason).toBe('too_large');
    expect(rejection(encoder.encode(text)).reason).toBe('too_large');
  });

  it('the limit counts UTF-8 bytes, not characters', () => {
    // "€" is 1 UTF-16 unit but 3 UTF-8 bytes: about 24 000 characters, 72 000 bytes.
    const text = eventOfSize(65_536 + 3 * 2_000, '€');
    expect(text.length).toBeLessThan(MAX_EVENT_BYTES);
    expect(rejection(text).reason).toBe('too_large');
  });

  it('anything over the limit is too_large even when it is not JSON', () => {
    expect(rejection('x'.repeat(MAX_EVENT_BYTES + 1)).reason).toBe('too_large');
    expect(rejection(new Uint8Array(MAX_EVENT_BYTES + 1).fill(0xff)).reason).toBe('too_large');
  });
});

describe('rejections', () => {
  it('every rejection carries a reason from REJECT_REASONS and a non-empty detail', () => {
    const inputs: (string | WireObject)[] = [
      '',
      '[]',
      without(presented, 'call'),
      { ...presented, call: '' },
      { ...presented, v: 3 },
      { ...presented, type: 'x' },
    ];
    for (const input of inputs) {
      const result = rejection(input);
      expect(REJECT_REASONS).toContain(result.reason);
      expect(result.detail.length).toBeGreaterThan(0);
    }
  });

  it('the detail names the field and the type for a missing field', () => {
    expect(rejection(without(opened, 'area')).detail).toBe(
      'field "area" is required for incident.opened',
    );
  });

  it('the first problem in field order is the one reported', () => {
    expect(rejection({ ...opened, id: '', grade: 9 }).field).toBe('id');
  });

  it('parseEventObject validates an already-decoded object the same way', () => {
    expect(parseEventObject({ ...presented })).toEqual(parseEvent(line(presented)));
    expect(parseEventObject(without(presented, 'channel'))).toMatchObject({
      ok: false,
      reason: 'missing_field',
      field: 'channel',
    });
  });
});

describe('labels must be valid Unicode', () => {
  it('an id holding a lone surrogate escape is rejected as invalid_field on id', () => {
    const line =
      '{"v":1,"id":"a\\ud800b","type":"call.closed","force":"northants","at":"2024-02-19T21:04:05Z","call":"c1"}';
    const result = parseEvent(line);
    expect(result).toMatchObject({ ok: false, reason: 'invalid_field', field: 'id' });
  });

  it('an id holding a properly paired surrogate (an emoji) is accepted', () => {
    const line =
      '{"v":1,"id":"a\\ud83d\\ude91b","type":"call.closed","force":"northants","at":"2024-02-19T21:04:05Z","call":"c1"}';
    expect(parseEvent(line).ok).toBe(true);
  });
});
