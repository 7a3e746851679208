/**
 * A hand-written check for the common case of a valid event, ahead of zod: on the ingest's
 * one JS thread zod's validation cost more per line than ClickHouse's whole native load
 * of the same file (packages/store/BENCHMARKS.md). It accepts only what it is sure the
 * schemas accept, building the very object zod returns (same fields, same key order);
 * for anything else — every invalid event, and rare valid ones such as a label with a
 * surrogate pair — it answers `undefined` and the schemas decide and word the rejection.
 * parse.fast-path.test.ts proves the two agree.
 */
import type { CallmonEvent, EventType } from './schema.ts';

/** Fields only, as JSON.parse gives them. */
type Fields = Record<string, unknown>;
type Event = Record<string, unknown>;

const FORCE_CODE = /^[a-z0-9][a-z0-9-]{1,31}$/;
/** Any surrogate: a lone one is invalid, a pair is valid but left to the schema. */
const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The last force code that passed: one file or partition is nearly always one force. It
 * starts as an object no JSON value can be identical to.
 */
let lastForce: unknown = {};

function isLabel(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length >= 1 && value.length <= 128 && !SURROGATE.test(value)
  );
}

/**
 * An optional label: `true` when absent or valid. A key present with value `undefined`
 * (possible only for callers of parseEventObject, not from JSON) makes zod keep the key,
 * so it goes to the schema.
 */
function optionalLabelOk(fields: Fields, key: string, value: unknown): boolean {
  return value === undefined ? !(key in fields) : isLabel(value);
}

/**
 * The event zod would return for `fields` (already known to have `v: 1` and `type` one of
 * the contract's types), or `undefined` when not sure.
 */
export function acceptCommonEvent(fields: Fields, type: EventType): CallmonEvent | undefined {
  const id = fields.id;
  const force = fields.force;
  const atText = fields.at;
  const source = fields.source;
  if (!isLabel(id) || typeof atText !== 'string') return undefined;
  if (force !== lastForce) {
    if (typeof force !== 'string' || !FORCE_CODE.test(force)) return undefined;
    lastForce = force;
  }
  if (!optionalLabelOk(fields, 'source', source)) return undefined;
  const at = fastEventTime(atText);
  if (Number.isNaN(at)) return undefined;

  // Key order as zod builds it: the envelope's shape (v, id, force, at, source), then type,
  // then the type's own fields in schema order.
  const event: Event = { v: 1, id, force, at };
  if (source !== undefined) event.source = source;
  event.type = type;

  switch (type) {
    case 'call.presented': {
      const { call, channel, queue } = fields;
      if (!isLabel(call) || (channel !== '999' && channel !== '101')) return undefined;
      if (!optionalLabelOk(fields, 'queue', queue)) return undefined;
      event.call = call;
      event.channel = channel;
      if (queue !== undefined) event.queue = queue;
      break;
    }
    case 'call.answered': {
      const { call, handler } = fields;
      if (!isLabel(call) || !optionalLabelOk(fields, 'handler', handler)) return undefined;
      event.call = call;
      if (handler !== undefined) event.handler = handler;
      break;
    }
    case 'call.abandoned':
    case 'call.closed': {
      const call = fields.call;
      if (!isLabel(call)) return undefined;
      event.call = call;
      break;
    }
    case 'incident.opened': {
      const { incident, grade, area, call, district } = fields;
      if (!isLabel(incident) || !isGrade(grade)) return undefined;
      if (area !== 'urban' && area !== 'rural') return undefined;
      if (!optionalLabelOk(fields, 'call', call)) return undefined;
      if (!optionalLabelOk(fields, 'district', district)) return undefined;
      event.incident = incident;
      event.grade = grade;
      event.area = area;
      if (call !== undefined) event.call = call;
      if (district !== undefined) event.district = district;
      break;
    }
    case 'incident.regraded': {
      const { incident, grade } = fields;
      if (!isLabel(incident) || !isGrade(grade)) return undefined;
      event.incident = incident;
      event.grade = grade;
      break;
    }
    case 'unit.dispatched':
    case 'unit.arrived': {
      const { incident, unit } = fields;
      if (!isLabel(incident) || !isLabel(unit)) return undefined;
      event.incident = incident;
      event.unit = unit;
      break;
    }
    case 'victim.updated':
    case 'incident.closed': {
      const incident = fields.incident;
      if (!isLabel(incident)) return undefined;
      event.incident = incident;
      break;
    }
    default:
      return undefined;
  }
  return event as CallmonEvent;
}

function isGrade(value: unknown): value is number {
  return value === 1 || value === 2 || value === 3 || value === 4;
}

/** The decimal digit at `index`, or NaN. */
function digit(text: string, index: number): number {
  const d = text.charCodeAt(index) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

function two(text: string, index: number): number {
  return digit(text, index) * 10 + digit(text, index + 1);
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * `parseEventTime(text).ms` for a valid `at` (`YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)`),
 * by arithmetic instead of a regex and a `Date`; NaN for anything else, which the schema
 * then parses (and words) itself.
 */
export function fastEventTime(text: string): number {
  const length = text.length;
  if (length < 20 || length > 29) return Number.NaN;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN; // -
  const t = text.charCodeAt(10);
  if (t !== 84 && t !== 116) return Number.NaN; // T t
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN; // :
  const year = two(text, 0) * 100 + two(text, 2);
  const month = two(text, 5);
  const day = two(text, 8);
  const hour = two(text, 11);
  const minute = two(text, 14);
  const second = two(text, 17);
  // NaN fails every comparison, so a non-digit anywhere above lands here too.
  if (!(month >= 1 && month <= 12 && hour <= 23 && minute <= 59 && second <= 59)) {
    return Number.NaN;
  }
  if (!(day >= 1 && day <= daysInMonth(year, month))) return Number.NaN;

  let index = 19;
  let millis = 0;
  if (text.charCodeAt(index) === 46) {
    // .
    index++;
    let digits = 0;
    while (digits < 3 && index < length) {
      const d = digit(text, index);
      if (Number.isNaN(d)) break;
      millis = millis * 10 + d;
      digits++;
      index++;
    }
    if (digits === 0) return Number.NaN;
    millis *= digits === 1 ? 100 : digits === 2 ? 10 : 1;
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(index);
  if (zone === 90 || zone === 122) {
    // Z z
    if (index + 1 !== length) return Number.NaN;
  } else if (zone === 43 || zone === 45) {
    // + -
    if (index + 6 !== length || text.charCodeAt(index + 3) !== 58) return Number.NaN;
    const offsetHours = two(text, index + 1);
    const offsetMins = two(text, index + 4);
    if (!(offsetHours <= 23 && offsetMins <= 59)) return Number.NaN;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + offsetMins);
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
