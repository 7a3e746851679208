/**
 * The contract checked on the bytes of a line, for the common case only, without building
 * any JS value: where each field's value lies in the line, `at` in UTC milliseconds, and
 * the type. A file backfill spends most of its time in `JSON.parse`, the event object, the
 * fingerprint string and their garbage; an ingest that only writes rows needs none of
 * them (services/ingest encodes the store row from these positions).
 *
 * Like the fast path of `parseEvent` (common-event.ts) it accepts only what it is sure of
 * — one JSON object, on one line of printable ASCII, whose strings have no escapes, whose
 * every field `parseEvent` keeps is plainly valid — and answers `false` for anything else,
 * to be parsed by `parseEvent`, which decides and words the rejection. For every line it
 * accepts, `parseEvent` accepts it too and returns exactly these values
 * (plain-event.test.ts).
 */
import { daysFromCivil, daysInMonth } from './common-event.ts';
import { type CallmonEvent, EVENT_TYPES, type EventType } from './schema.ts';

/** The fields of the contract, as indexes into {@link PlainEvent}'s `starts` and `ends`. */
export const PLAIN_FIELDS = [
  'id',
  'force',
  'type',
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
  'v',
] as const;
export type PlainField = (typeof PLAIN_FIELDS)[number];

const ID = 0;
const FORCE = 1;
const TYPE = 2;
const AT = 3;
const SOURCE = 4;
const CALL = 5;
const CHANNEL = 6;
const QUEUE = 7;
const HANDLER = 8;
const INCIDENT = 9;
const GRADE = 10;
const AREA = 11;
const DISTRICT = 12;
const UNIT = 13;
const V = 14;
const FIELD_COUNT = 15;

/**
 * The last accepted line's fields. One object, overwritten by every call (a backfill
 * scans a million lines; a result object each would be garbage).
 */
export interface PlainEvent {
  /** Where each field's value starts in the line, or -1 where the event has no such field. */
  readonly starts: Int32Array;
  /** Where each value ends (exclusive). Strings: between the quotes. */
  readonly ends: Int32Array;
  /**
   * `starts` then `ends`, as one array ({@link PLAIN_FIELD_SLOTS} numbers): what a worker
   * copies out so that another thread can build the event ({@link plainEventFrom}).
   */
  readonly fields: Int32Array;
  /** The type, an index into `EVENT_TYPES`. */
  type: number;
  /** `at`, UTC milliseconds. */
  at: number;
  /** `grade` (1–4), or 0 where the event has none. */
  grade: number;
}

/** Numbers per line in {@link PlainEvent.fields}: each field's start, then each one's end. */
export const PLAIN_FIELD_SLOTS = 2 * FIELD_COUNT;

const plainFields = new Int32Array(PLAIN_FIELD_SLOTS);

export const plainEvent: PlainEvent = {
  starts: plainFields.subarray(0, FIELD_COUNT),
  ends: plainFields.subarray(FIELD_COUNT),
  fields: plainFields,
  type: 0,
  at: 0,
  grade: 0,
};

/** Fields a type's events keep: bit per field index; the rest are dropped as unknown. */
const ENVELOPE = bit(ID) | bit(FORCE) | bit(TYPE) | bit(AT) | bit(SOURCE) | bit(V);
const REQUIRED_ENVELOPE = ENVELOPE & ~bit(SOURCE);

/** Per type, in `EVENT_TYPES` order: [fields kept, fields required]. */
const TYPE_FIELDS: Record<EventType, [number, number]> = {
  'call.presented': [bit(CALL) | bit(CHANNEL) | bit(QUEUE), bit(CALL) | bit(CHANNEL)],
  'call.answered': [bit(CALL) | bit(HANDLER), bit(CALL)],
  'call.abandoned': [bit(CALL), bit(CALL)],
  'call.closed': [bit(CALL), bit(CALL)],
  'incident.opened': [
    bit(INCIDENT) | bit(GRADE) | bit(AREA) | bit(CALL) | bit(DISTRICT),
    bit(INCIDENT) | bit(GRADE) | bit(AREA),
  ],
  'incident.regraded': [bit(INCIDENT) | bit(GRADE), bit(INCIDENT) | bit(GRADE)],
  'unit.dispatched': [bit(INCIDENT) | bit(UNIT), bit(INCIDENT) | bit(UNIT)],
  'unit.arrived': [bit(INCIDENT) | bit(UNIT), bit(INCIDENT) | bit(UNIT)],
  'victim.updated': [bit(INCIDENT), bit(INCIDENT)],
  'incident.closed': [bit(INCIDENT), bit(INCIDENT)],
};
const KEPT = EVENT_TYPES.map((type) => ENVELOPE | TYPE_FIELDS[type][0]);
const REQUIRED = EVENT_TYPES.map((type) => REQUIRED_ENVELOPE | TYPE_FIELDS[type][1]);

function bit(field: number): number {
  return 1 << field;
}

/** Field names and type names as bytes, to compare without decoding. */
const ascii = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const FIELD_NAMES = PLAIN_FIELDS.map(ascii);
const TYPE_NAMES = EVENT_TYPES.map(ascii);

/** Longest line taken here: `parseEvent` rejects above 64 KiB; real events are ~200 bytes. */
const MAX_PLAIN_BYTES = 4096;

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** Scan position, shared by the helpers of one call (no closures, no result objects). */
let at = 0;

/** The byte at `at`, or -1 at the end of the line (the buffer may go on with the next). */
function peek(line: Uint8Array, end: number): number {
  return at < end ? line[at]! : -1;
}

// The loops below read and write `at` through a local: a module variable lives in a
// context slot, a load and a store per byte where a local stays in a register.
function skipSpace(line: Uint8Array, end: number): void {
  let index = at;
  while (index < end) {
    const byte = line[index]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) break;
    index++;
  }
  at = index;
}

/**
 * What each byte is inside a plain string: 0 plain (printable ASCII), 1 the closing
 * quote, 2 anything that sends the line to `parseEvent` (a backslash, a control character,
 * any non-ASCII byte). One table load a byte instead of three comparisons.
 */
const STRING_BYTE = new Uint8Array(256).fill(2);
STRING_BYTE.fill(0, 0x20, 0x7f);
STRING_BYTE[QUOTE] = 1;
STRING_BYTE[0x5c] = 2; // backslash

/**
 * A string from `at` (just past its opening quote) to its closing quote, which `at` is
 * left after; false if it has an escape, a control character or any non-ASCII byte.
 */
function skipPlainString(line: Uint8Array, end: number): boolean {
  let index = at;
  while (index < end) {
    const kind = STRING_BYTE[line[index++]!]!;
    if (kind !== 0) {
      at = index;
      return kind === 1;
    }
  }
  at = index;
  return false;
}

/**
 * The fields whose names start with each byte (the contract's names differ in their first
 * byte and length), so a key is compared with one or two names, not fifteen.
 */
const FIELDS_BY_FIRST_BYTE: number[][] = Array.from({ length: 128 }, () => []);
for (let field = 0; field < FIELD_COUNT; field++) {
  FIELDS_BY_FIRST_BYTE[PLAIN_FIELDS[field]!.charCodeAt(0)]!.push(field);
}
const NO_FIELDS: number[] = [];

/** Which field the key between `start` and `stop` names, or -1. */
function fieldOf(line: Uint8Array, start: number, stop: number): number {
  const length = stop - start;
  const candidates = length > 0 ? (FIELDS_BY_FIRST_BYTE[line[start]!] ?? NO_FIELDS) : NO_FIELDS;
  outer: for (const field of candidates) {
    const name = FIELD_NAMES[field]!;
    if (name.length !== length) continue;
    for (let index = 1; index < length; index++) {
      if (line[start + index] !== name[index]) continue outer;
    }
    return field;
  }
  return -1;
}

/**
 * A JSON value other than a string, from `at`: an integer (JSON's own grammar, no
 * fraction or exponent), `true`, `false` or `null`; `at` is left after it. False for
 * anything else (objects and arrays are left to `parseEvent`).
 */
function skipScalar(line: Uint8Array, end: number): boolean {
  const first = line[at]!;
  if (first === 0x2d || (first >= 0x30 && first <= 0x39)) {
    if (first === 0x2d) at++;
    if (at >= end) return false;
    const lead = line[at++]!;
    if (lead === 0x30) {
      // A leading zero stands alone.
    } else if (lead >= 0x31 && lead <= 0x39) {
      while (at < end && line[at]! >= 0x30 && line[at]! <= 0x39) at++;
    } else {
      return false;
    }
    const next = at < end ? line[at]! : 0x20;
    return !(next === 0x2e || next === 0x65 || next === 0x45 || (next >= 0x30 && next <= 0x39));
  }
  const word = first === 0x74 ? TRUE : first === 0x66 ? FALSE : first === 0x6e ? NULL : undefined;
  if (word === undefined || at + word.length > end) return false;
  for (let index = 0; index < word.length; index++) {
    if (line[at + index] !== word[index]) return false;
  }
  at += word.length;
  return true;
}
const TRUE = ascii('true');
const FALSE = ascii('false');
const NULL = ascii('null');

/**
 * Check `line[start, end)` (one line, without its newline) for a plainly valid event and
 * fill {@link plainEvent}; false when not sure (then `parseEvent` decides).
 */
export function scanPlainEvent(line: Uint8Array, start: number, end: number): boolean {
  if (end - start > MAX_PLAIN_BYTES) return false;
  const { starts, ends } = plainEvent;
  starts.fill(-1);
  // Which fields were given as strings (bit set) or as other scalars (bit clear).
  let seen = 0;
  let strings = 0;
  at = start;
  skipSpace(line, end);
  if (peek(line, end) !== OPEN) return false;
  at++;
  skipSpace(line, end);
  if (peek(line, end) === CLOSE) return false;
  for (;;) {
    if (peek(line, end) !== QUOTE) return false;
    const keyStart = ++at;
    if (!skipPlainString(line, end)) return false;
    const field = fieldOf(line, keyStart, at - 1);
    skipSpace(line, end);
    if (peek(line, end) !== COLON) return false;
    at++;
    skipSpace(line, end);
    if (at >= end) return false;
    const valueStart = at;
    let isString = false;
    if (line[at] === QUOTE) {
      at++;
      if (!skipPlainString(line, end)) return false;
      isString = true;
    } else if (!skipScalar(line, end)) {
      return false;
    }
    if (field >= 0) {
      // A repeated key: JSON.parse keeps the last; leave that to it.
      if (seen & bit(field)) return false;
      seen |= bit(field);
      if (isString) {
        strings |= bit(field);
        starts[field] = valueStart + 1;
        ends[field] = at - 1;
      } else {
        starts[field] = valueStart;
        ends[field] = at;
      }
    }
    skipSpace(line, end);
    const next = peek(line, end);
    at++;
    if (next === CLOSE) break;
    if (next !== COMMA) return false;
    skipSpace(line, end);
  }
  skipSpace(line, end);
  if (at !== end) return false;

  // v: the number 1, spelled `1`.
  if ((seen & bit(V)) === 0 || strings & bit(V)) return false;
  if (ends[V]! - starts[V]! !== 1 || line[starts[V]!] !== 0x31) return false;
  const type = typeOf(line, strings);
  if (type < 0) return false;
  const kept = KEPT[type]!;
  if ((seen & REQUIRED[type]!) !== REQUIRED[type]) return false;
  // Every kept field but v and grade is a string; fields the type does not keep are
  // dropped whatever they hold.
  if ((seen & kept & ~strings & ~bit(V) & ~bit(GRADE)) !== 0) return false;
  for (let field = 0; field < FIELD_COUNT; field++) {
    if ((kept & bit(field)) === 0) starts[field] = -1;
  }
  for (const field of LABELS) {
    const from = starts[field]!;
    if (from >= 0 && (ends[field]! === from || ends[field]! - from > 128)) return false;
  }
  if (!isForceCode(line, starts[FORCE]!, ends[FORCE]!)) return false;
  const channel = starts[CHANNEL]!;
  if (channel >= 0 && !isChannel(line, channel, ends[CHANNEL]!)) return false;
  const area = starts[AREA]!;
  if (area >= 0 && !isArea(line, area, ends[AREA]!)) return false;
  plainEvent.grade = 0;
  const grade = starts[GRADE]!;
  if (grade >= 0) {
    const digit = line[grade]! - 0x30;
    if (strings & bit(GRADE) || ends[GRADE]! - grade !== 1 || digit < 1 || digit > 4) return false;
    plainEvent.grade = digit;
  }
  const time = eventTime(line, starts[AT]!, ends[AT]!);
  if (Number.isNaN(time)) return false;
  plainEvent.type = type;
  plainEvent.at = time;
  return true;
}

/** String fields checked as labels (1–128 characters; ASCII here, so bytes). */
const LABELS = [ID, SOURCE, CALL, QUEUE, HANDLER, INCIDENT, DISTRICT, UNIT];

function typeOf(line: Uint8Array, strings: number): number {
  if ((strings & bit(TYPE)) === 0) return -1;
  const start = plainEvent.starts[TYPE]!;
  const length = plainEvent.ends[TYPE]! - start;
  outer: for (let type = 0; type < TYPE_NAMES.length; type++) {
    const name = TYPE_NAMES[type]!;
    if (name.length !== length) continue;
    for (let index = 0; index < length; index++) {
      if (line[start + index] !== name[index]) continue outer;
    }
    return type;
  }
  return -1;
}

/** `^[a-z0-9][a-z0-9-]{1,31}$` */
function isForceCode(line: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length < 2 || length > 32) return false;
  for (let index = start; index < end; index++) {
    const byte = line[index]!;
    const alphanumeric = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39);
    if (!alphanumeric && (byte !== 0x2d || index === start)) return false;
  }
  return true;
}

function isChannel(line: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 3) return false;
  const a = line[start];
  const b = line[start + 1];
  const c = line[start + 2];
  return (a === 0x39 && b === 0x39 && c === 0x39) || (a === 0x31 && b === 0x30 && c === 0x31);
}

const URBAN = ascii('urban');
const RURAL = ascii('rural');

function isArea(line: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 5) return false;
  const word = line[start] === 0x75 ? URBAN : RURAL;
  for (let index = 0; index < 5; index++) {
    if (line[start + index] !== word[index]) return false;
  }
  return true;
}

/** The decimal digit at `index`, or NaN. */
function digit(line: Uint8Array, index: number): number {
  const value = line[index]! - 48;
  return value >= 0 && value <= 9 ? value : Number.NaN;
}

function two(line: Uint8Array, index: number): number {
  return digit(line, index) * 10 + digit(line, index + 1);
}

/**
 * `at` (`YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`) in UTC milliseconds, from its bytes
 * `[start, end)`, as common-event.ts's `fastEventTime` reads it from text; NaN for
 * anything else.
 */
function eventTime(line: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 20 || length > 29) return Number.NaN;
  if (line[start + 4] !== 0x2d || line[start + 7] !== 0x2d) return Number.NaN; // -
  const t = line[start + 10];
  if (t !== 0x54 && t !== 0x74) return Number.NaN; // T t
  if (line[start + 13] !== COLON || line[start + 16] !== COLON) return Number.NaN;
  const year = two(line, start) * 100 + two(line, start + 2);
  const month = two(line, start + 5);
  const day = two(line, start + 8);
  const hour = two(line, start + 11);
  const minute = two(line, start + 14);
  const second = two(line, start + 17);
  // NaN fails every comparison, so a non-digit anywhere above lands here too.
  if (!(month >= 1 && month <= 12 && hour <= 23 && minute <= 59 && second <= 59)) {
    return Number.NaN;
  }
  if (!(day >= 1 && day <= daysInMonth(year, month))) return Number.NaN;

  let index = start + 19;
  let millis = 0;
  if (line[index] === 0x2e) {
    index++;
    let digits = 0;
    while (digits < 3 && index < end) {
      const value = digit(line, index);
      if (Number.isNaN(value)) break;
      millis = millis * 10 + value;
      digits++;
      index++;
    }
    if (digits === 0) return Number.NaN;
    millis *= digits === 1 ? 100 : digits === 2 ? 10 : 1;
  }
  let offsetMinutes = 0;
  const zone = line[index];
  if (zone === 0x5a || zone === 0x7a) {
    // Z z
    if (index + 1 !== end) return Number.NaN;
  } else if (zone === 0x2b || zone === 0x2d) {
    // + -
    if (index + 6 !== end || line[index + 3] !== COLON) return Number.NaN;
    const offsetHours = two(line, index + 1);
    const offsetMins = two(line, index + 4);
    if (!(offsetHours <= 23 && offsetMins <= 59)) return Number.NaN;
    offsetMinutes = (zone === 0x2d ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return Number.NaN;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    ((hour * 60 + minute) * 60 + second) * 1000 +
    millis -
    offsetMinutes * 60_000
  );
}

/** Fingerprint fields, in `eventFingerprint`'s order; numbers are written bare. */
const FINGERPRINT_ORDER = [
  V,
  TYPE,
  FORCE,
  ID,
  AT,
  SOURCE,
  CALL,
  CHANNEL,
  QUEUE,
  HANDLER,
  INCIDENT,
  GRADE,
  AREA,
  DISTRICT,
  UNIT,
];

/**
 * `eventFingerprint` of the event {@link scanPlainEvent} last accepted from `line`,
 * written as UTF-8 into `out` from `at` (room for {@link plainFingerprintLength} bytes);
 * returns where it ends. Plain strings need no
 * escaping, so each is its bytes between quotes.
 */
export function writePlainFingerprint(line: Uint8Array, out: Uint8Array, at = 0): number {
  const { starts, ends } = plainEvent;
  let length = at;
  for (const field of FINGERPRINT_ORDER) {
    out[length++] = COMMA;
    if (field === AT) {
      length = writeInteger(out, length, plainEvent.at);
      continue;
    }
    const start = starts[field]!;
    if (start < 0) continue;
    const quoted = field !== V && field !== GRADE;
    if (quoted) out[length++] = QUOTE;
    for (let index = start, end = ends[field]!; index < end; index++) out[length++] = line[index]!;
    if (quoted) out[length++] = QUOTE;
  }
  return length;
}

/**
 * How many bytes {@link writePlainFingerprint} writes for the event last accepted: known
 * before writing, so that a row can hold its fingerprint with its length first.
 */
export function plainFingerprintLength(): number {
  const { starts, ends } = plainEvent;
  let length = FINGERPRINT_ORDER.length + digitsOf(plainEvent.at);
  for (const field of FINGERPRINT_ORDER) {
    if (field === AT) continue;
    const start = starts[field]!;
    if (start < 0) continue;
    length += ends[field]! - start + (field !== V && field !== GRADE ? 2 : 0);
  }
  return length;
}

/** How many characters `String(value)` gives for a safe integer. */
function digitsOf(value: number): number {
  let digits = value < 0 ? 2 : 1;
  for (let rest = Math.abs(value); rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

/** An integer's decimal digits (as `String(value)` writes a safe integer). */
function writeInteger(out: Uint8Array, at: number, value: number): number {
  let length = at;
  if (value < 0) {
    out[length++] = 0x2d;
    value = -value;
  }
  const first = length;
  do {
    out[length++] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  } while (value > 0);
  for (let low = first, high = length - 1; low < high; low++, high--) {
    const digit = out[low]!;
    out[low] = out[high]!;
    out[high] = digit;
  }
  return length;
}

/** Per type, in `EVENT_TYPES` order: its own fields in the schema's order (as zod builds the object). */
const OBJECT_FIELDS: Record<EventType, readonly number[]> = {
  'call.presented': [CALL, CHANNEL, QUEUE],
  'call.answered': [CALL, HANDLER],
  'call.abandoned': [CALL],
  'call.closed': [CALL],
  'incident.opened': [INCIDENT, GRADE, AREA, CALL, DISTRICT],
  'incident.regraded': [INCIDENT, GRADE],
  'unit.dispatched': [INCIDENT, UNIT],
  'unit.arrived': [INCIDENT, UNIT],
  'victim.updated': [INCIDENT],
  'incident.closed': [INCIDENT],
};
const TYPE_OBJECT_FIELDS = EVENT_TYPES.map((type) => OBJECT_FIELDS[type]);

/** The line last read as text, and a Buffer on it (one per batch of lines, not per field). */
let textLine: Uint8Array | undefined;
let textView: Buffer | undefined;
/** The last force code read: one partition or file is nearly always one force. */
let lastForce = '';

/** `line[start, end)` as a flat string (plain strings are ASCII, so latin1 is their UTF-8). */
function text(line: Uint8Array, start: number, end: number): string {
  if (line !== textLine) {
    textLine = line;
    textView = Buffer.isBuffer(line)
      ? line
      : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  }
  return textView!.toString('latin1', start, end);
}

/** Whether `line[start, end)` spells `value` (ASCII). */
function spells(line: Uint8Array, start: number, end: number, value: string): boolean {
  if (end - start !== value.length) return false;
  for (let index = 0; index < value.length; index++) {
    if (line[start + index] !== value.charCodeAt(index)) return false;
  }
  return true;
}

/**
 * The event `parseEvent` returns for a line {@link scanPlainEvent} accepted, from a copy of
 * the scan's results (`fields[base …]` holding what {@link PlainEvent.fields} held, with
 * its type, time and grade) and the line's bytes: the same fields, values and key order,
 * without `JSON.parse`. The line may have been scanned on another thread.
 */
export function plainEventFrom(
  line: Uint8Array,
  fields: Int32Array,
  base: number,
  type: number,
  time: number,
  grade: number,
  /** The id, if the caller has it as text already. */
  id?: string,
): CallmonEvent {
  const ends = base + FIELD_COUNT;
  const forceStart = fields[base + FORCE]!;
  const forceEnd = fields[ends + FORCE]!;
  if (!spells(line, forceStart, forceEnd, lastForce)) lastForce = text(line, forceStart, forceEnd);
  const event: Record<string, unknown> = {
    v: 1,
    id: id ?? text(line, fields[base + ID]!, fields[ends + ID]!),
    force: lastForce,
    at: time,
  };
  const source = fields[base + SOURCE]!;
  if (source >= 0) event.source = text(line, source, fields[ends + SOURCE]!);
  event.type = EVENT_TYPES[type];
  for (const field of TYPE_OBJECT_FIELDS[type]!) {
    const start = fields[base + field]!;
    if (start < 0) continue;
    if (field === GRADE) event.grade = grade;
    else if (field === CHANNEL) event.channel = line[start] === 0x39 ? '999' : '101';
    else if (field === AREA) event.area = line[start] === 0x75 ? 'urban' : 'rural';
    else event[PLAIN_FIELDS[field]!] = text(line, start, fields[ends + field]!);
  }
  return event as unknown as CallmonEvent;
}
