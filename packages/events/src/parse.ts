import type { z } from 'zod';
import { acceptCommonEvent } from './common-event.ts';
import {
  type CallmonEvent,
  CONTRACT_VERSION,
  EVENT_TYPES,
  type EventType,
  eventSchemas,
} from './schema.ts';

/**
 * Why an input line is not an event. A closed set: ingestion stores it with every
 * rejected line, and docs/event-contract.md documents each code for integrators.
 */
export const REJECT_REASONS = [
  'invalid_encoding',
  'too_large',
  'invalid_json',
  'not_an_object',
  'unsupported_version',
  'unknown_type',
  'missing_field',
  'invalid_field',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Upper bound on one event's encoded size; real events are a few hundred bytes. */
export const MAX_EVENT_BYTES = 64 * 1024;

export type ParseResult =
  | { ok: true; event: CallmonEvent }
  | { ok: false; reason: RejectReason; detail: string; field?: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function reject(reason: RejectReason, detail: string, field?: string): ParseResult {
  return field === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, field };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`;
}

/**
 * Decode and validate one line of the contract (a Kafka message value or an NDJSON
 * line). Never throws: every input gets either an event or a reason.
 */
export function parseEvent(input: string | Uint8Array): ParseResult {
  let text: string;
  if (typeof input === 'string') {
    text = input;
    // The limit is on UTF-8 bytes, as on the wire; a UTF-16 code unit is 1–3 of them, so
    // only strings near the limit need counting.
    if (text.length * 3 > MAX_EVENT_BYTES) {
      const bytes = utf8Encoder.encode(text).byteLength;
      if (bytes > MAX_EVENT_BYTES) {
        return reject('too_large', `event is ${bytes} bytes, over ${MAX_EVENT_BYTES}`);
      }
    }
  } else {
    if (input.byteLength > MAX_EVENT_BYTES) {
      return reject('too_large', `event is ${input.byteLength} bytes, over ${MAX_EVENT_BYTES}`);
    }
    try {
      text = utf8.decode(input);
    } catch {
      return reject('invalid_encoding', 'event is not valid UTF-8');
    }
  }

  // RFC 8259 lets a parser ignore a byte order mark; the decoder above drops it from
  // bytes, and this does the same for text, so both forms of one line agree.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject('invalid_json', (error as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('not_an_object', `expected a JSON object, got ${describe(value)}`);
  }
  return parseEventObject(value as Record<string, unknown>);
}

/** Validate an already-decoded JSON object against the contract. */
export function parseEventObject(object: Record<string, unknown>): ParseResult {
  if (!('v' in object) || object.v === undefined) {
    return reject('missing_field', 'field "v" is required', 'v');
  }
  if (object.v !== CONTRACT_VERSION) {
    return reject(
      'unsupported_version',
      `contract version ${JSON.stringify(object.v)} is not supported; expected ${CONTRACT_VERSION}`,
      'v',
    );
  }
  if (!('type' in object) || object.type === undefined) {
    return reject('missing_field', 'field "type" is required', 'type');
  }
  const type = object.type;
  if (typeof type !== 'string' || !Object.hasOwn(eventSchemas, type)) {
    return reject(
      'unknown_type',
      `type ${JSON.stringify(type)} is not one of ${EVENT_TYPES.join(', ')}`,
      'type',
    );
  }
  const event = acceptCommonEvent(object, type as EventType);
  if (event !== undefined) return { ok: true, event };
  return parseBySchema(object, type as EventType);
}

/**
 * The schema's verdict on an object with a valid `v` and `type`: the authority, and the
 * wording of every rejection. {@link acceptCommonEvent} only saves it work.
 */
export function parseBySchema(object: Record<string, unknown>, type: EventType): ParseResult {
  const schema = eventSchemas[type] as z.ZodType<CallmonEvent>;
  const result = schema.safeParse(object);
  if (result.success) return { ok: true, event: result.data };

  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  const given = issue.path.reduce<unknown>(
    (node, key) =>
      node !== null && typeof node === 'object'
        ? (node as Record<PropertyKey, unknown>)[key as PropertyKey]
        : undefined,
    object,
  );
  if (given === undefined) {
    return reject('missing_field', `field "${field}" is required for ${type}`, field);
  }
  return reject('invalid_field', `field "${field}": ${issue.message}`, field);
}

/**
 * The canonical content of an accepted event: its known fields, normalised (`at` in
 * UTC ms), in a fixed order. Two copies with the same (force, id) and the same
 * fingerprint are duplicates; a different fingerprint is a conflict. Unknown extra
 * fields and the spelling of the time zone do not change it, because the metrics never
 * see them. Built by concatenation, not JSON, because it runs once per ingested event.
 */
export function eventFingerprint(event: CallmonEvent): string {
  const fields = event as unknown as Record<string, string | number | undefined>;
  // Every field any event type can carry, in this fixed order; named property loads
  // rather than a loop over the names.
  const content =
    fingerprintPart(fields.v) +
    fingerprintPart(fields.type) +
    fingerprintPart(fields.force) +
    fingerprintPart(fields.id) +
    fingerprintPart(fields.at) +
    fingerprintPart(fields.source) +
    fingerprintPart(fields.call) +
    fingerprintPart(fields.channel) +
    fingerprintPart(fields.queue) +
    fingerprintPart(fields.handler) +
    fingerprintPart(fields.incident) +
    fingerprintPart(fields.grade) +
    fingerprintPart(fields.area) +
    fingerprintPart(fields.district) +
    fingerprintPart(fields.unit);
  // `+` builds a tree of some 30 string pieces; callers keep fingerprints (the ingest for
  // a whole run), and a young-generation GC copies every piece of every one still held.
  // Converting to a number (NaN: it starts with a comma) makes V8 flatten it to one string
  // now: a loop that keeps three batches of 10 000 fingerprints ran 2–3× faster.
  flatten(content);
  return content;
}

/** Counted, never read: an unused conversion would be optimised away, and with it the flattening. */
let _flattened = 0;

function flatten(text: string): void {
  if (!Number.isNaN(Number(text))) _flattened++;
}

/**
 * A string that JSON.stringify would only wrap in quotes: no quote, backslash or control
 * character, and no surrogate (a lone one would be escaped; pairs take the slow path too).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON.stringify escapes
const PLAIN_JSON_STRING = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function fingerprintPart(value: string | number | undefined): string {
  if (value === undefined) return ',';
  if (typeof value === 'number') return `,${value}`;
  // Strings are JSON-quoted so that no value can fake a field boundary; quoting a plain
  // one directly gives the same text as JSON.stringify, in half the time.
  return typeof value === 'string' && PLAIN_JSON_STRING.test(value)
    ? `,"${value}"`
    : `,${JSON.stringify(value)}`;
}
