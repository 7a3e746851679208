import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { LiveSnapshot, WeeklyReport } from '@callmon/compliance';
import type { CallmonEvent, EventType } from '@callmon/events';
import {
  type AcknowledgementQuery,
  type AcknowledgementRecord,
  listAcknowledgements,
  recordAcknowledgement,
} from './acknowledgements.ts';
import { type Connection, connect, type StoreOptions } from './connection.ts';
import { type AppliedMigration, applyMigrations, MIGRATIONS } from './migrations/index.ts';
import {
  EVENT_COLUMNS,
  EVENT_FILE_COLUMNS,
  EVENT_FILE_SELECT,
  EVENT_FILE_STRUCTURE,
  EVENT_INSERT_COLUMNS,
  EVENT_SELECT,
  type EventRecord,
  type EventValues,
  eventFromValues,
  eventRowLine,
  REJECTED_FILE_COLUMNS,
  REJECTED_FILE_SELECT,
  REJECTED_FILE_STRUCTURE,
  REJECTED_INSERT_COLUMNS,
  REJECTED_SELECT,
  type RejectedEntry,
  type RejectedReason,
  type RejectedRecord,
  type RejectedRow,
  rejectedFromRow,
  rejectedRowLine,
  type SourceKind,
  type SourcePosition,
  STORED_EVENT_SELECT,
  type StoredEvent,
  type StoredEventRow,
  storedEventFromRow,
  writeEventRow,
  writeRejectedRow,
} from './records.ts';
import {
  type RefreshWeekFactsOptions,
  type RollingSnapshotOptions,
  refreshWeekFactsOf,
  rollingSnapshotOf,
  type WeekFactsRefresh,
  type WeeklyReportOptions,
  weeklyReportOf,
} from './reports/reports.ts';
import { RowBinaryWriter } from './row-binary.ts';
import { WrittenIds } from './written-ids.ts';

export interface InsertOptions {
  /**
   * Names the batch and makes its insert idempotent: a retry of the same batch must
   * carry the same token (and the same rows), e.g. `kafka:<topic>:<partition>:<first>-<last>`
   * or `file:<path>:<firstLine>-<lastLine>`. Stored with every row as `batch`.
   */
  dedupToken: string;
}

/**
 * An accepted event as its batch-file row: bytes `start` to `end` of `rows`, written by
 * `encodeEventRow` (rows.ts), with the event's force and id (for the duplicate look-ups).
 */
export interface EncodedEventRow {
  readonly force: string;
  readonly id: string;
  readonly rows: Uint8Array;
  readonly start: number;
  readonly end: number;
}

/** The first stored copy of an id, as {@link Store.knownCopies} answers. */
export interface KnownCopy {
  fingerprint: string;
  /** Where it came from: a copy read again from the same place is that copy, re-read. */
  position: SourcePosition;
}

/** See {@link Store.rowsOfBatch}. */
export interface BatchRows {
  /** `force\u0000id` of each stored event of the batch. */
  events: Set<string>;
  rejectedOffsets: Set<number>;
}

/** Event time range, UTC milliseconds, half-open: `from <= at < to`. */
export interface EventRange {
  force: string;
  from?: number;
  to?: number;
  /**
   * Leave out the events whose first copy was read from this source partition at or after
   * `fromOffset` and arrived at or after `arrivedFrom` (UTC ms): a Kafka consumer
   * restoring its live state while it applies the chunks it has just written itself.
   */
  leaveOut?: {
    kind: SourceKind;
    name: string;
    partition: number;
    fromOffset: number;
    arrivedFrom: number;
  };
}

export interface EventCountQuery {
  force?: string;
  from?: number;
  to?: number;
  type?: EventType;
}

/** Arrival time range, UTC milliseconds, half-open. */
export interface RejectedQuery {
  reason?: RejectedReason;
  force?: string;
  from?: number;
  to?: number;
  limit: number;
  offset?: number;
}

export interface Store {
  readonly mode: 'embedded' | 'server';
  /** A data folder, or a server URL (without credentials) and database. */
  readonly location: string;
  /** Apply pending migrations (openStore already did); returns the steps it ran. */
  migrate(): Promise<AppliedMigration[]>;
  /** Append accepted events; idempotent per `dedupToken`. Resolves once the rows are durable. */
  insertEvents(records: readonly EventRecord[], options: InsertOptions): Promise<void>;
  /**
   * {@link insertEvents} for events already encoded by `encodeEventRow` (on another
   * thread): the same rows, the same deduplication. Embedded mode only.
   */
  insertEncodedEvents(rows: readonly EncodedEventRow[], options: InsertOptions): Promise<void>;
  /** Append rejected inputs; idempotent per `dedupToken`. */
  insertRejected(records: readonly RejectedRecord[], options: InsertOptions): Promise<void>;
  /**
   * What the store holds of a batch written under `dedupToken`, or of its rows written
   * again under `<dedupToken>#again-<n>`: the force and id of each event (as
   * `force\u0000id`) and the source offset of each rejected input. A scan: for checking a
   * write that repeated one cut short by a crash, not for every batch.
   */
  rowsOfBatch(dedupToken: string): Promise<BatchRows>;
  /**
   * The first stored copy of each id that is already stored for the force: its
   * fingerprint, and where it was read from. Embedded mode answers most ids from this
   * store's own writes (written-ids.ts), so every write to `events` in this process must
   * go through this store.
   */
  knownCopies(force: string, ids: readonly string[]): Promise<Map<string, KnownCopy>>;
  /** The accepted events of a force in an event-time range, each once, ordered by (at, id). */
  readEvents(range: EventRange): Promise<CallmonEvent[]>;
  /** How many distinct events (by force and id) match. */
  countEvents(query?: EventCountQuery): Promise<number>;
  /** The forces with an event dated in the range (UTC ms, `from <= at < to`), sorted. */
  forcesWithEvents(range?: { from?: number; to?: number }): Promise<string[]>;
  /** Every stored copy of every event naming the call, by event time, with arrival metadata. */
  eventsOfCall(force: string, call: string): Promise<StoredEvent[]>;
  /** Every stored copy of every event of the incident, by event time, with arrival metadata. */
  eventsOfIncident(force: string, incident: string): Promise<StoredEvent[]>;
  /** Rejected inputs by arrival, one per source position. */
  listRejected(query: RejectedQuery): Promise<RejectedEntry[]>;
  /** Rejected inputs per reason (one per source position) over an arrival range. */
  countRejected(
    query?: Omit<RejectedQuery, 'limit' | 'offset'>,
  ): Promise<Map<RejectedReason, number>>;
  /** metrics.md §7 computed by the engine: equal to `weeklyReport` of `@callmon/compliance` over the stored events. */
  weeklyReport(options: WeeklyReportOptions): Promise<WeeklyReport>;
  /**
   * Stores a week's facts so that its weekly report reads them instead of the events, for
   * as long as nothing stored since could change it (README, Reports).
   */
  refreshWeekFacts(options: RefreshWeekFactsOptions): Promise<WeekFactsRefresh>;
  /** metrics.md §8 computed by the engine: equal to `rollingSnapshot` of `@callmon/compliance`. */
  rollingSnapshot(options: RollingSnapshotOptions): Promise<LiveSnapshot>;
  /** Record a breach acknowledgement (acknowledgements.ts). Resolves once stored. */
  recordAcknowledgement(record: AcknowledgementRecord): Promise<void>;
  /** The acknowledgements that stand, one per alert: the first of each (acknowledgements.ts). */
  listAcknowledgements(query: AcknowledgementQuery): Promise<AcknowledgementRecord[]>;
  /** Wait for running operations, then release the connection (and chDB's data folder). */
  close(): Promise<void>;
}

/**
 * The embedded engine hit an error that leaves it unusable for the rest of the process
 * (chDB runs in-process, so one abort poisons every later query). Exit and restart:
 * ingestion re-reads from its last committed position, so nothing is lost.
 */
export class StoreFailedError extends Error {
  override readonly name = 'StoreFailedError';
}

/** Rows per INSERT statement: bounds the request body (chDB builds it as one string). */
const MAX_ROWS_PER_INSERT = 50_000;
/** Ids per look-up query: one query for an ordinary batch, bounded for a huge one. */
const MAX_IDS_PER_LOOKUP = 10_000;

/**
 * Which copy of an event counts: the first to arrive, ties broken by source position.
 * Every de-duplicating read orders by this.
 */
const FIRST_COPY_ORDER = 'arrived_at, source_kind, source_name, source_partition, source_offset';

/** Open (and migrate) the store. One per process in embedded mode. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const connection = await connect(options);
  const store = new ClickHouseStore(connection);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

class ClickHouseStore implements Store {
  readonly mode: 'embedded' | 'server';
  readonly location: string;
  readonly #connection: Connection;
  readonly #running = new Set<Promise<unknown>>();
  /**
   * Embedded mode: the buffer batch files are built in, reused (each file is built and
   * written synchronously, so no two inserts share it at once).
   */
  readonly #rows = new RowBinaryWriter();
  /** Embedded mode: the ids this process wrote, so that most look-ups need no query. */
  readonly #written = new WrittenIds();
  #closing: Promise<void> | null = null;
  #failure: unknown = null;

  constructor(connection: Connection) {
    this.#connection = connection;
    this.mode = connection.mode;
    this.location = connection.location;
  }

  migrate(): Promise<AppliedMigration[]> {
    return this.#use(() => applyMigrations(this.#connection.client, MIGRATIONS));
  }

  insertEvents(records: readonly EventRecord[], options: InsertOptions): Promise<void> {
    return this.#use(() => {
      const { insertDir } = this.#connection;
      if (insertDir === undefined) {
        return this.#insert('events', EVENT_INSERT_COLUMNS, records, options, eventRowLine);
      }
      const written = this.#written;
      for (const { event } of records) written.add(event.force, event.id);
      return this.#insertFile(records, options, insertDir, EVENT_FILE, eachRow(writeEventRow));
    });
  }

  insertEncodedEvents(rows: readonly EncodedEventRow[], options: InsertOptions): Promise<void> {
    return this.#use(() => {
      const { insertDir } = this.#connection;
      if (insertDir === undefined) {
        throw new Error('encoded event rows are for the embedded store (RowBinary batch files)');
      }
      const written = this.#written;
      for (const row of rows) written.add(row.force, row.id);
      return this.#insertFile(rows, options, insertDir, EVENT_FILE, copyEncodedRows);
    });
  }

  insertRejected(records: readonly RejectedRecord[], options: InsertOptions): Promise<void> {
    return this.#use(() =>
      this.#connection.insertDir === undefined
        ? this.#insert(
            'rejected_events',
            REJECTED_INSERT_COLUMNS,
            records,
            options,
            rejectedRowLine,
          )
        : this.#insertFile(
            records,
            options,
            this.#connection.insertDir,
            REJECTED_FILE,
            eachRow(writeRejectedRow),
          ),
    );
  }

  rowsOfBatch(dedupToken: string): Promise<BatchRows> {
    return this.#use(async () => {
      const params = { batch: dedupToken, again: `${dedupToken}#again-` };
      const ofBatch = 'WHERE batch = {batch:String} OR startsWith(batch, {again:String})';
      const events = await this.#select<{ force: string; id: string }>(
        `SELECT force, id FROM events ${ofBatch}`,
        params,
      );
      const rejected = await this.#select<{ offset: number | string }>(
        `SELECT source_offset AS offset FROM rejected_events ${ofBatch}`,
        params,
      );
      return {
        events: new Set(events.map((row) => `${row.force}\u0000${row.id}`)),
        rejectedOffsets: new Set(rejected.map((row) => Number(row.offset))),
      };
    });
  }

  knownCopies(force: string, ids: readonly string[]): Promise<Map<string, KnownCopy>> {
    return this.#use(async () => {
      const known = new Map<string, KnownCopy>();
      const asked = (await this.#tracksWrites(force))
        ? ids.filter((id) => this.#written.mayHave(force, id))
        : ids;
      if (asked.length === 0) return known;
      for (const [id, copy] of await this.#firstCopies(force, asked)) {
        known.set(id, {
          fingerprint: copy.fingerprint,
          position: {
            kind: copy.source_kind,
            name: copy.source_name,
            partition: Number(copy.source_partition),
            offset: Number(copy.source_offset),
          },
        });
      }
      return known;
    });
  }

  /** Embedded mode: whether {@link WrittenIds} answers for the force's ids. */
  async #tracksWrites(force: string): Promise<boolean> {
    if (this.#connection.insertDir === undefined) return false;
    return this.#written.tracks(
      force,
      async () => {
        const [row] = await this.#select<{ n: number | string }>(
          'SELECT count() AS n FROM events WHERE force = {force:String}',
          { force },
        );
        return Number(row?.n ?? 0);
      },
      () => this.#storedIdHashes(force),
    );
  }

  /**
   * Embedded: {@link idHash} of every stored id of a force, hashed by the engine into a
   * file (RowBinary UInt32s) rather than sent as rows: 10 M ids cost 40 MB, not 10 M strings.
   */
  async #storedIdHashes(force: string): Promise<Uint32Array> {
    const file = join(this.#connection.insertDir!, `${randomBytes(8).toString('hex')}.hashes`);
    try {
      await this.#connection.client.command({
        query: `INSERT INTO FUNCTION file(${sqlString(file)}, 'RowBinary', 'hash UInt32')
                SELECT murmurHash3_32(id) FROM events WHERE force = {force:String}`,
        query_params: { force },
      });
      const bytes = readFileSync(file);
      // RowBinary is little-endian, as are the machines chDB runs on; copied when unaligned.
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
      return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
    } finally {
      rmSync(file, { force: true });
    }
  }

  readEvents(range: EventRange): Promise<CallmonEvent[]> {
    return this.#use(async () => {
      const params: Record<string, unknown> = { force: range.force };
      const where = ['force = {force:String}', ...timeRange('at', range, params)];
      // Left out once each id's first copy is chosen: an id whose first copy is left out
      // is left out whole, not replaced by a later copy.
      let leftOut = '';
      let sourceColumns = '';
      if (range.leaveOut !== undefined) {
        const { kind, name, partition, fromOffset, arrivedFrom } = range.leaveOut;
        Object.assign(params, { leaveKind: kind, leaveName: name, leavePartition: partition });
        Object.assign(params, { leaveFrom: fromOffset, leaveArrived: arrivedFrom });
        sourceColumns = ', source_kind, source_name, source_partition, source_offset, arrived_at';
        leftOut = `WHERE NOT (source_kind = {leaveKind:String} AND source_name = {leaveName:String}
             AND source_partition = {leavePartition:UInt32} AND source_offset >= {leaveFrom:UInt64}
             AND arrived_at >= fromUnixTimestamp64Milli({leaveArrived:Int64}, 'UTC'))`;
      }
      // JSONCompactEachRow: arrays instead of objects halve the time to format and parse
      // a large read (bench: 200 000 events, 1.7 s → 1.0 s).
      const result = await this.#connection.client.query({
        query: `SELECT ${EVENT_SELECT} FROM
         (
             SELECT ${EVENT_COLUMNS}${sourceColumns} FROM events WHERE ${where.join(' AND ')}
             ORDER BY ${FIRST_COPY_ORDER}
             LIMIT 1 BY id
         )
         ${leftOut}
         ORDER BY at, id`,
        format: 'JSONCompactEachRow',
        query_params: params,
      });
      return (await result.json<EventValues>()).map(eventFromValues);
    });
  }

  countEvents(query: EventCountQuery = {}): Promise<number> {
    return this.#use(async () => {
      const params: Record<string, unknown> = {};
      const where = timeRange('at', query, params);
      if (query.force !== undefined) {
        where.push('force = {force:String}');
        params.force = query.force;
      }
      if (query.type !== undefined) {
        where.push('type = {type:String}');
        params.type = query.type;
      }
      const [row] = await this.#select<{ n: number | string }>(
        `SELECT uniqExact(force, id) AS n FROM events ${whereClause(where)}`,
        params,
      );
      return Number(row?.n ?? 0);
    });
  }

  forcesWithEvents(range: { from?: number; to?: number } = {}): Promise<string[]> {
    return this.#use(async () => {
      const params: Record<string, unknown> = {};
      const where = timeRange('at', range, params);
      const rows = await this.#select<{ force: string }>(
        `SELECT DISTINCT force FROM events ${whereClause(where)} ORDER BY force`,
        params,
      );
      return rows.map((row) => row.force);
    });
  }

  eventsOfCall(force: string, call: string): Promise<StoredEvent[]> {
    return this.#use(() => this.#timeline(force, 'call', call));
  }

  eventsOfIncident(force: string, incident: string): Promise<StoredEvent[]> {
    return this.#use(() => this.#timeline(force, 'incident', incident));
  }

  listRejected(query: RejectedQuery): Promise<RejectedEntry[]> {
    return this.#use(async () => {
      const params: Record<string, unknown> = { limit: query.limit, offset: query.offset ?? 0 };
      const rows = await this.#select<RejectedRow>(
        `SELECT ${REJECTED_SELECT} FROM rejected_events ${rejectedWhere(query, params)}
         ORDER BY ${FIRST_COPY_ORDER}
         LIMIT 1 BY source_kind, source_name, source_partition, source_offset
         LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
        params,
      );
      return rows.map(rejectedFromRow);
    });
  }

  countRejected(
    query: Omit<RejectedQuery, 'limit' | 'offset'> = {},
  ): Promise<Map<RejectedReason, number>> {
    return this.#use(async () => {
      const params: Record<string, unknown> = {};
      const rows = await this.#select<{ reason: RejectedReason; n: number | string }>(
        `SELECT reason, count() AS n FROM
         (
             SELECT reason FROM rejected_events ${rejectedWhere(query, params)}
             ORDER BY ${FIRST_COPY_ORDER}
             LIMIT 1 BY source_kind, source_name, source_partition, source_offset
         )
         GROUP BY reason ORDER BY reason`,
        params,
      );
      return new Map(rows.map((row) => [row.reason, Number(row.n)]));
    });
  }

  weeklyReport(options: WeeklyReportOptions): Promise<WeeklyReport> {
    return this.#use(() => weeklyReportOf(this.#connection.client, FIRST_COPY_ORDER, options));
  }

  refreshWeekFacts(options: RefreshWeekFactsOptions): Promise<WeekFactsRefresh> {
    return this.#use(() => refreshWeekFactsOf(this.#connection.client, FIRST_COPY_ORDER, options));
  }

  rollingSnapshot(options: RollingSnapshotOptions): Promise<LiveSnapshot> {
    return this.#use(() => rollingSnapshotOf(this.#connection.client, FIRST_COPY_ORDER, options));
  }

  recordAcknowledgement(record: AcknowledgementRecord): Promise<void> {
    return this.#use(() => recordAcknowledgement(this.#connection.client, record));
  }

  listAcknowledgements(query: AcknowledgementQuery): Promise<AcknowledgementRecord[]> {
    return this.#use(() => listAcknowledgements(this.#connection.client, query));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled(this.#running);
      await this.#connection.close();
    })();
    return this.#closing;
  }

  /** Every operation goes through here: refused once closing or failed, tracked until settled. */
  async #use<T>(work: () => Promise<T>): Promise<T> {
    if (this.#failure !== null) {
      throw new StoreFailedError(
        `the embedded store on ${this.location} failed earlier and cannot be used again in this process`,
        { cause: this.#failure },
      );
    }
    if (this.#closing !== null) throw new Error(`the store on ${this.location} is closed`);
    const running = work();
    this.#running.add(running);
    try {
      return await running;
    } catch (error) {
      if (this.mode === 'embedded' && isEngineFatal(error)) {
        this.#failure = error;
        throw new StoreFailedError(
          `the embedded engine on ${this.location} aborted; restart the process`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      this.#running.delete(running);
    }
  }

  /**
   * One INSERT per chunk, with the token and settings in the statement itself. Not
   * `clickhouse_settings`: chDB applies those as `SET` on its session, where they stay,
   * so the next insert without a token would silently reuse this one and be dropped as
   * a duplicate (README, chDB notes).
   */
  async #insert<R>(
    table: string,
    columns: readonly string[],
    records: readonly R[],
    options: InsertOptions,
    line: (record: R, batch: string) => string,
  ): Promise<void> {
    if (options.dedupToken.length === 0) throw new Error('dedupToken must not be empty');
    const chunks = Math.ceil(records.length / MAX_ROWS_PER_INSERT);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const token = chunks === 1 ? options.dedupToken : `${options.dedupToken}#${chunk}`;
      const start = chunk * MAX_ROWS_PER_INSERT;
      const end = Math.min(records.length, start + MAX_ROWS_PER_INSERT);
      let body = '';
      for (let index = start; index < end; index++) {
        body += `${line(records[index]!, options.dedupToken)}\n`;
      }
      const result = await this.#connection.client.exec({
        query:
          `INSERT INTO ${table} (${columns.join(', ')}) SETTINGS insert_deduplicate = 1, ` +
          `insert_deduplication_token = ${sqlString(token)}, max_partitions_per_insert_block = 0 ` +
          'FORMAT JSONCompactEachRow',
        values: Readable.from([Buffer.from(body, 'utf8')]),
      });
      result.stream.resume();
      await finished(result.stream);
    }
  }

  /**
   * Embedded mode: each chunk as a RowBinary file that the engine reads with `file()`,
   * `INSERT … SETTINGS <token> SELECT … FROM file(…)`. chDB parses data inlined in a
   * query about 4× slower than the same bytes through `file()`, and RowBinary is the
   * cheapest format to build and to parse (BENCHMARKS.md). The token deduplicates an
   * INSERT … SELECT as it does a plain INSERT; `deduplicate_insert_select = 'force_enable'`
   * makes the engine refuse, rather than silently not deduplicate, should it ever judge
   * the SELECT unstable. The file is deleted once the statement has returned.
   */
  async #insertFile<R>(
    records: readonly R[],
    options: InsertOptions,
    insertDir: string,
    target: FileInsert,
    write: (out: RowBinaryWriter, records: readonly R[], start: number, end: number) => void,
  ): Promise<void> {
    if (options.dedupToken.length === 0) throw new Error('dedupToken must not be empty');
    const chunks = Math.ceil(records.length / MAX_ROWS_PER_INSERT);
    for (let chunk = 0; chunk < chunks; chunk++) {
      const token = chunks === 1 ? options.dedupToken : `${options.dedupToken}#${chunk}`;
      const start = chunk * MAX_ROWS_PER_INSERT;
      const end = Math.min(records.length, start + MAX_ROWS_PER_INSERT);
      const rows = this.#rows.reset();
      write(rows, records, start, end);
      const file = join(insertDir, `${randomBytes(8).toString('hex')}.rowbinary`);
      writeFileSync(file, rows.bytes);
      try {
        await this.#connection.client.command({
          query:
            `INSERT INTO ${target.table} (${target.columns}) SETTINGS insert_deduplicate = 1, ` +
            `insert_deduplication_token = ${sqlString(token)}, ` +
            "deduplicate_insert_select = 'force_enable', max_partitions_per_insert_block = 0 " +
            `SELECT ${target.select}, ${sqlString(options.dedupToken)} ` +
            `FROM file(${sqlString(file)}, 'RowBinary', ${sqlString(target.structure)})`,
        });
      } finally {
        rmSync(file, { force: true });
      }
    }
  }

  async #select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.#connection.client.query({
      query,
      format: 'JSONEachRow',
      query_params: params,
    });
    return result.json<T>();
  }

  /** The first stored copy of each id, from the `by_id` projection. */
  async #firstCopies(force: string, ids: readonly string[]): Promise<Map<string, FirstCopy>> {
    const unique = [...new Set(ids)];
    const copies = new Map<string, FirstCopy>();
    const { insertDir } = this.#connection;
    for (let start = 0; start < unique.length; start += MAX_IDS_PER_LOOKUP) {
      const ids = unique.slice(start, start + MAX_IDS_PER_LOOKUP);
      const query = (set: string) =>
        `SELECT id, fingerprint, ${ARRIVAL_KEY} AS arrival,
                source_kind, source_name, source_partition, source_offset
         FROM events
         WHERE force = {force:String} AND id IN ${set}
         ORDER BY id, ${FIRST_COPY_ORDER}
         LIMIT 1 BY id`;
      let rows: FirstCopy[];
      if (insertDir === undefined) {
        rows = await this.#select<FirstCopy>(query('{ids:Array(String)}'), { force, ids });
      } else {
        // Embedded: the ids as a file the engine reads, not a query parameter, which
        // chDB parses much more slowly (10 000 ids at 1 M events: ≈75 against ≈115 ms).
        const list = this.#rows.reset();
        for (const id of ids) list.string(id);
        const file = join(insertDir, `${randomBytes(8).toString('hex')}.ids`);
        writeFileSync(file, list.bytes);
        try {
          rows = await this.#select<FirstCopy>(
            query(`(SELECT id FROM file(${sqlString(file)}, 'RowBinary', 'id String'))`),
            { force },
          );
        } finally {
          rmSync(file, { force: true });
        }
      }
      for (const row of rows) copies.set(row.id, row);
    }
    return copies;
  }

  async #timeline(
    force: string,
    column: 'call' | 'incident',
    value: string,
  ): Promise<StoredEvent[]> {
    const rows = await this.#select<StoredEventRow & { arrival: string }>(
      `SELECT ${STORED_EVENT_SELECT}, ${ARRIVAL_KEY} AS arrival
       FROM events
       WHERE force = {force:String} AND ${column} = {value:String}
       ORDER BY at, ${FIRST_COPY_ORDER}, id`,
      { force, value },
    );
    // A copy counts if it is the first of its id anywhere, not merely in this timeline.
    const first = await this.#firstCopies(
      force,
      rows.map((row) => row.id),
    );
    const counted = new Set<string>();
    return rows.map((row) => {
      const isFirst = !counted.has(row.id) && first.get(row.id)?.arrival === row.arrival;
      if (isFirst) counted.add(row.id);
      return storedEventFromRow(row, isFirst);
    });
  }
}

/** An encoded row into a batch file: its bytes as they are. */
/** Each record written by `write`, one after another. */
function eachRow<R>(write: (out: RowBinaryWriter, record: R) => void) {
  return (out: RowBinaryWriter, records: readonly R[], start: number, end: number): void => {
    for (let index = start; index < end; index++) write(out, records[index]!);
  };
}

/** Encoded rows as they are; rows that lie back to back in one buffer, as one copy. */
function copyEncodedRows(
  out: RowBinaryWriter,
  rows: readonly EncodedEventRow[],
  start: number,
  end: number,
): void {
  let index = start;
  while (index < end) {
    const first = rows[index]!;
    let to = first.end;
    for (index++; index < end; index++) {
      const next = rows[index]!;
      if (next.rows !== first.rows || next.start !== to) break;
      to = next.end;
    }
    out.copy(first.rows, first.start, to);
  }
}

/** A table written from RowBinary batch files (embedded mode): see `#insertFile`. */
interface FileInsert {
  table: string;
  /** The table's columns filled, `batch` last. */
  columns: string;
  /** What the file holds, as `file()`'s structure argument. */
  structure: string;
  /** The values of `columns` but `batch`, over `structure`. */
  select: string;
}

const EVENT_FILE: FileInsert = {
  table: 'events',
  columns: EVENT_FILE_COLUMNS,
  structure: EVENT_FILE_STRUCTURE,
  select: EVENT_FILE_SELECT,
};

const REJECTED_FILE: FileInsert = {
  table: 'rejected_events',
  columns: REJECTED_FILE_COLUMNS,
  structure: REJECTED_FILE_STRUCTURE,
  select: REJECTED_FILE_SELECT,
};

/** The first stored copy of an id: its fingerprint and its {@link ARRIVAL_KEY}. */
interface FirstCopy {
  id: string;
  fingerprint: string;
  arrival: string;
  source_kind: SourceKind;
  source_name: string;
  source_partition: number | string;
  source_offset: number | string;
}

/** A copy's place in {@link FIRST_COPY_ORDER} as one comparable string. */
const ARRIVAL_KEY =
  "concat(toString(toUnixTimestamp64Milli(arrived_at)), '|', source_kind, '|', source_name, '|', toString(source_partition), '|', toString(source_offset))";

function timeRange(
  column: string,
  range: { from?: number; to?: number },
  params: Record<string, unknown>,
): string[] {
  const where: string[] = [];
  if (range.from !== undefined) {
    where.push(`${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`);
    params.from = range.from;
  }
  if (range.to !== undefined) {
    where.push(`${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`);
    params.to = range.to;
  }
  return where;
}

function rejectedWhere(
  query: Omit<RejectedQuery, 'limit' | 'offset'>,
  params: Record<string, unknown>,
): string {
  const where = timeRange('arrived_at', query, params);
  if (query.reason !== undefined) {
    where.push('reason = {reason:String}');
    params.reason = query.reason;
  }
  if (query.force !== undefined) {
    where.push('force = {force:String}');
    params.force = query.force;
  }
  return whereClause(where);
}

function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** A ClickHouse string literal. */
function sqlString(value: string): string {
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
}

/** chDB's signature of an engine that has shut itself down (chdb-node#53). */
function isEngineFatal(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, type, message } = error as { code?: unknown; type?: unknown; message?: unknown };
  return (
    code === '236' ||
    type === 'ABORTED' ||
    (typeof message === 'string' && message.includes('server is shutting down'))
  );
}
