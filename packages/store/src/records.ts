import {
  type CallmonEvent,
  eventFingerprint,
  PLAIN_FIELDS,
  type PlainField,
  plainEvent,
  type RejectReason,
  writePlainFingerprint,
} from '@callmon/events';
import type { RowBinaryWriter } from './row-binary.ts';

/** Where an input came from: enough to find it again at its source. */
export const SOURCE_KINDS = ['file', 'kafka', 'simulator'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourcePosition {
  kind: SourceKind;
  /** File path, Kafka topic, or simulator run name. */
  name: string;
  /** Kafka partition; 0 for files and the simulator. */
  partition: number;
  /** Kafka offset, file line number, or simulator sequence number. */
  offset: number;
}

/** An accepted event as the ingest hands it to the store. */
export interface EventRecord {
  event: CallmonEvent;
  /** The line or message exactly as received; it parsed, so it is valid UTF-8. */
  raw: string;
  /** When the ingest received it, UTC milliseconds (the ingest's clock, not the event's). */
  arrivedAt: number;
  position: SourcePosition;
  /**
   * `eventFingerprint(event)`, when the caller has computed it already (the ingest does,
   * to tell duplicates from conflicts); the store computes it when absent. It must be
   * exactly that function's result: it is what later duplicate checks compare against.
   */
  fingerprint?: string;
  /**
   * The UTF-8 encoding of `raw`, when the caller has it (the ingest has the bytes it
   * read): the embedded store copies them as they are instead of encoding `raw` again.
   */
  rawBytes?: Uint8Array;
}

/** One stored copy of an event, as the audit timelines show it. */
export interface StoredEvent extends EventRecord {
  fingerprint: string;
  /** The insert batch (its deduplication token) that wrote this copy. */
  batch: string;
  /** False for a later copy of an event already stored: it is kept for audit, never counted. */
  counted: boolean;
}

/**
 * Why an input is stored among the rejected: a parse rejection of the contract, or an
 * identity outcome decided against what is already stored (events.md: a second event
 * with the same force and id is a `duplicate`; different content is a `conflict`).
 */
export const IDENTITY_REJECT_REASONS = ['conflict', 'duplicate'] as const;
export type RejectedReason = RejectReason | (typeof IDENTITY_REJECT_REASONS)[number];

export interface RejectedRecord {
  /** The bytes exactly as received (a string is stored as its UTF-8 encoding). */
  raw: string | Uint8Array;
  reason: RejectedReason;
  detail: string;
  field?: string;
  /** Known for identity outcomes, and for parse rejections that got that far. */
  force?: string;
  eventId?: string;
  fingerprint?: string;
  arrivedAt: number;
  position: SourcePosition;
}

export interface RejectedEntry extends Omit<RejectedRecord, 'raw'> {
  raw: Buffer;
  batch: string;
}

/** The columns an event row is written with, in order (`at_ms`, `arrived_ms` are EPHEMERAL). */
export const EVENT_INSERT_COLUMNS = [
  'force',
  'id',
  'type',
  'at_ms',
  'v',
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
  'fingerprint',
  'raw',
  'arrived_ms',
  'source_kind',
  'source_name',
  'source_partition',
  'source_offset',
  'batch',
] as const;

/** The optional typed fields of the contract, stored as Nullable columns of the same name. */
const OPTIONAL_FIELDS = [
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
] as const;

/**
 * One JSONCompactEachRow line for `events`, values in the order of
 * {@link EVENT_INSERT_COLUMNS}. Arrays rather than objects: a third less to build,
 * send and parse than JSONEachRow (bench/insert.bench.ts).
 */
export function eventRowLine(record: EventRecord, batch: string): string {
  const event = record.event;
  const fields = event as unknown as Record<string, string | number | undefined>;
  const { position } = record;
  return JSON.stringify([
    event.force,
    event.id,
    event.type,
    event.at,
    event.v,
    fields.source ?? null,
    fields.call ?? null,
    fields.channel ?? null,
    fields.queue ?? null,
    fields.handler ?? null,
    fields.incident ?? null,
    fields.grade ?? null,
    fields.area ?? null,
    fields.district ?? null,
    fields.unit ?? null,
    record.fingerprint ?? eventFingerprint(event),
    record.raw,
    record.arrivedAt,
    position.kind,
    position.name,
    position.partition,
    position.offset,
    batch,
  ]);
}

/**
 * An event row in an embedded batch file (RowBinary), column by column in the order
 * {@link writeEventRow} writes them, with the engine's types; `at` and `arrived_at` go as
 * integer milliseconds and {@link EVENT_FILE_SELECT} converts them.
 */
export const EVENT_FILE_STRUCTURE =
  'force String, id String, type String, at_ms Int64, v UInt8, source Nullable(String), call Nullable(String), channel Nullable(String), queue Nullable(String), handler Nullable(String), incident Nullable(String), grade Nullable(UInt8), area Nullable(String), district Nullable(String), unit Nullable(String), fingerprint String, raw String, arrived_ms Int64, source_kind String, source_name String, source_partition UInt32, source_offset UInt64';

/** The `events` columns an INSERT … SELECT from a batch file fills, `batch` last. */
export const EVENT_FILE_COLUMNS = `force, id, type, at, v, ${OPTIONAL_FIELDS.join(', ')}, fingerprint, raw, arrived_at, source_kind, source_name, source_partition, source_offset, batch`;

/** The SELECT list over {@link EVENT_FILE_STRUCTURE} for {@link EVENT_FILE_COLUMNS}, less `batch`. */
export const EVENT_FILE_SELECT = `force, id, type, fromUnixTimestamp64Milli(at_ms, 'UTC'), v, ${OPTIONAL_FIELDS.join(', ')}, fingerprint, raw, fromUnixTimestamp64Milli(arrived_ms, 'UTC'), source_kind, source_name, source_partition, source_offset`;

/** One event row of a batch file, in the order of {@link EVENT_FILE_STRUCTURE}. */
export function writeEventRow(out: RowBinaryWriter, record: EventRecord): void {
  const event = record.event;
  const fields = event as unknown as Record<string, string | undefined>;
  const { position } = record;
  out.string(event.force);
  out.string(event.id);
  out.string(event.type);
  out.int64(event.at);
  out.uint8(event.v);
  out.nullableString(fields.source);
  out.nullableString(fields.call);
  out.nullableString(fields.channel);
  out.nullableString(fields.queue);
  out.nullableString(fields.handler);
  out.nullableString(fields.incident);
  out.nullableUint8((event as { grade?: number }).grade);
  out.nullableString(fields.area);
  out.nullableString(fields.district);
  out.nullableString(fields.unit);
  out.string(record.fingerprint ?? eventFingerprint(event));
  const rawBytes = record.rawBytes;
  if (rawBytes === undefined) out.string(record.raw);
  else out.utf8(rawBytes);
  out.int64(record.arrivedAt);
  out.string(position.kind);
  out.string(position.name);
  out.uint32(position.partition);
  out.uint64(position.offset);
}

/** Where `plainEvent` holds each field. */
const plainIndex = (field: PlainField) => PLAIN_FIELDS.indexOf(field);
const FORCE = plainIndex('force');
const ID = plainIndex('id');
const TYPE = plainIndex('type');
/** The Nullable(String) columns before `grade`, and after it, in column order. */
const PLAIN_BEFORE_GRADE = OPTIONAL_FIELDS.slice(0, OPTIONAL_FIELDS.indexOf('grade')).map(
  plainIndex,
);
const PLAIN_AFTER_GRADE = OPTIONAL_FIELDS.slice(OPTIONAL_FIELDS.indexOf('grade') + 1).map(
  plainIndex,
);

/**
 * {@link writeEventRow} for the line `scanPlainEvent` last accepted (`plainEvent`), from the
 * line's own bytes: the same row, without the event object. `line[start, end)` is the line,
 * stored as `raw`; its fingerprint (`writePlainFingerprint`, `plainFingerprintLength()`
 * bytes, which the caller passes in) is written straight into the row. Returns where the
 * fingerprint's bytes start in `out`.
 */
export function writePlainEventRow(
  out: RowBinaryWriter,
  line: Uint8Array,
  start: number,
  end: number,
  fingerprintLength: number,
  arrivedAt: number,
  position: SourcePosition,
): number {
  const { starts, ends } = plainEvent;
  out.stringFrom(line, starts[FORCE]!, ends[FORCE]!);
  out.stringFrom(line, starts[ID]!, ends[ID]!);
  out.stringFrom(line, starts[TYPE]!, ends[TYPE]!);
  out.int64(plainEvent.at);
  out.uint8(1);
  for (const field of PLAIN_BEFORE_GRADE) {
    out.nullableStringFrom(line, starts[field]!, ends[field]!);
  }
  out.nullableUint8(plainEvent.grade === 0 ? null : plainEvent.grade);
  for (const field of PLAIN_AFTER_GRADE) {
    out.nullableStringFrom(line, starts[field]!, ends[field]!);
  }
  const fingerprint = out.reserveString(fingerprintLength);
  writePlainFingerprint(line, out.target, fingerprint);
  out.stringFrom(line, start, end);
  out.int64(arrivedAt);
  out.string(position.kind);
  out.string(position.name);
  out.uint32(position.partition);
  out.uint64(position.offset);
  return fingerprint;
}

/** The stored columns an event is rebuilt from. */
export const EVENT_COLUMNS = `force, id, type, at, v, ${OPTIONAL_FIELDS.join(', ')}`;

/** The SELECT list an event is read back with: as objects for {@link eventFromRow}, as arrays for {@link eventFromValues}. */
export const EVENT_SELECT = `force, id, type, toUnixTimestamp64Milli(at) AS at_ms, v, ${OPTIONAL_FIELDS.join(', ')}`;

/** ... and with its storage metadata, for {@link storedEventFromRow}. */
export const STORED_EVENT_SELECT = `${EVENT_SELECT}, fingerprint, raw, toUnixTimestamp64Milli(arrived_at) AS arrived_ms, source_kind, source_name, source_partition, source_offset, batch`;

/** Over HTTP, ClickHouse quotes 64-bit integers in JSON; chDB does not. */
type Int64 = number | string;

export interface EventRow {
  force: string;
  id: string;
  type: CallmonEvent['type'];
  at_ms: Int64;
  v: number;
  source: string | null;
  call: string | null;
  channel: string | null;
  queue: string | null;
  handler: string | null;
  incident: string | null;
  grade: number | null;
  area: string | null;
  district: string | null;
  unit: string | null;
}

export interface StoredEventRow extends EventRow {
  fingerprint: string;
  raw: string;
  arrived_ms: Int64;
  source_kind: SourceKind;
  source_name: string;
  source_partition: number;
  source_offset: Int64;
  batch: string;
}

/** An event read with {@link EVENT_SELECT} in JSONCompactEachRow: values in that order. */
export type EventValues = [
  force: string,
  id: string,
  type: CallmonEvent['type'],
  atMs: Int64,
  v: number,
  ...optional: Array<string | number | null>,
];

/**
 * Rebuild the event exactly as the contract's parser produced it: a stored column is
 * null precisely when the field was absent, and every column is a field of its type,
 * so copying the non-null ones gives back the same keys and values.
 */
export function eventFromValues(values: EventValues): CallmonEvent {
  const event: Record<string, string | number> = {
    v: values[4],
    id: values[1],
    type: values[2],
    force: values[0],
    at: Number(values[3]),
  };
  OPTIONAL_FIELDS.forEach((name, index) => {
    const value = values[5 + index];
    if (value !== null && value !== undefined) event[name] = value;
  });
  return event as unknown as CallmonEvent;
}

export function eventFromRow(row: EventRow): CallmonEvent {
  return eventFromValues([
    row.force,
    row.id,
    row.type,
    row.at_ms,
    row.v,
    ...OPTIONAL_FIELDS.map((name) => row[name]),
  ]);
}

export function positionFromRow(row: {
  source_kind: SourceKind;
  source_name: string;
  source_partition: number;
  source_offset: Int64;
}): SourcePosition {
  return {
    kind: row.source_kind,
    name: row.source_name,
    partition: Number(row.source_partition),
    offset: Number(row.source_offset),
  };
}

export function storedEventFromRow(row: StoredEventRow, counted: boolean): StoredEvent {
  return {
    event: eventFromRow(row),
    raw: row.raw,
    arrivedAt: Number(row.arrived_ms),
    position: positionFromRow(row),
    fingerprint: row.fingerprint,
    batch: row.batch,
    counted,
  };
}

export const REJECTED_INSERT_COLUMNS = [
  'arrived_ms',
  'reason',
  'detail',
  'field',
  'force',
  'event_id',
  'fingerprint',
  'raw_base64',
  'source_kind',
  'source_name',
  'source_partition',
  'source_offset',
  'batch',
] as const;

/** One JSONCompactEachRow line for `rejected_events`, in the order of {@link REJECTED_INSERT_COLUMNS}. */
export function rejectedRowLine(record: RejectedRecord, batch: string): string {
  const raw = typeof record.raw === 'string' ? Buffer.from(record.raw, 'utf8') : record.raw;
  const { position } = record;
  return JSON.stringify([
    record.arrivedAt,
    record.reason,
    record.detail,
    record.field ?? null,
    record.force ?? null,
    record.eventId ?? null,
    record.fingerprint ?? null,
    Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64'),
    position.kind,
    position.name,
    position.partition,
    position.offset,
    batch,
  ]);
}

/** A rejected row in an embedded batch file (RowBinary), as {@link writeRejectedRow} writes it. */
export const REJECTED_FILE_STRUCTURE =
  'arrived_ms Int64, reason String, detail String, field Nullable(String), force Nullable(String), event_id Nullable(String), fingerprint Nullable(String), raw String, source_kind String, source_name String, source_partition UInt32, source_offset UInt64';

/** The `rejected_events` columns an INSERT … SELECT from a batch file fills, `batch` last. */
export const REJECTED_FILE_COLUMNS =
  'arrived_at, reason, detail, field, force, event_id, fingerprint, raw, source_kind, source_name, source_partition, source_offset, batch';

/** The SELECT list over {@link REJECTED_FILE_STRUCTURE} for {@link REJECTED_FILE_COLUMNS}, less `batch`. */
export const REJECTED_FILE_SELECT =
  "fromUnixTimestamp64Milli(arrived_ms, 'UTC'), reason, detail, field, force, event_id, fingerprint, raw, source_kind, source_name, source_partition, source_offset";

/**
 * One rejected row of a batch file, in the order of {@link REJECTED_FILE_STRUCTURE}. The
 * raw bytes go as they are (a RowBinary String is bytes), so no base64 is needed here.
 */
export function writeRejectedRow(out: RowBinaryWriter, record: RejectedRecord): void {
  const { position } = record;
  out.int64(record.arrivedAt);
  out.string(record.reason);
  out.string(record.detail);
  out.nullableString(record.field);
  out.nullableString(record.force);
  out.nullableString(record.eventId);
  out.nullableString(record.fingerprint);
  if (typeof record.raw === 'string') out.string(record.raw);
  else out.utf8(record.raw);
  out.string(position.kind);
  out.string(position.name);
  out.uint32(position.partition);
  out.uint64(position.offset);
}

export const REJECTED_SELECT =
  'toUnixTimestamp64Milli(arrived_at) AS arrived_ms, reason, detail, field, force, event_id, fingerprint, base64Encode(raw) AS raw_base64, source_kind, source_name, source_partition, source_offset, batch';

export interface RejectedRow {
  arrived_ms: Int64;
  reason: RejectedReason;
  detail: string;
  field: string | null;
  force: string | null;
  event_id: string | null;
  fingerprint: string | null;
  raw_base64: string;
  source_kind: SourceKind;
  source_name: string;
  source_partition: number;
  source_offset: Int64;
  batch: string;
}

export function rejectedFromRow(row: RejectedRow): RejectedEntry {
  const entry: RejectedEntry = {
    raw: Buffer.from(row.raw_base64, 'base64'),
    reason: row.reason,
    detail: row.detail,
    arrivedAt: Number(row.arrived_ms),
    position: positionFromRow(row),
    batch: row.batch,
  };
  if (row.field !== null) entry.field = row.field;
  if (row.force !== null) entry.force = row.force;
  if (row.event_id !== null) entry.eventId = row.event_id;
  if (row.fingerprint !== null) entry.fingerprint = row.fingerprint;
  return entry;
}
