import { createHash, type Hash } from 'node:crypto';
import type { Clock } from '@callmon/compliance';
import {
  type CallmonEvent,
  eventFingerprint,
  parseEvent,
  type RejectReason,
} from '@callmon/events';
import type {
  EncodedEventRow,
  EventRecord,
  RejectedRecord,
  SourcePosition,
  Store,
} from '@callmon/store';
import type { Logger } from 'pino';
import { fingerprintOf, type ParsedBatch } from './parse-workers.ts';

/**
 * The ingest pipeline, as one sentence: decode → validate → dedupe → store → evaluate →
 * publish. Inputs are buffered into deterministic batches (the same inputs always make
 * the same batch, with the same deduplication token), so a retried batch cannot be
 * counted twice; accepted events reach the live engines only once their batch is durable.
 */

export interface RawInput {
  bytes: Uint8Array;
  position: SourcePosition;
  /** When the ingest received it (UTC ms, ingest clock). */
  arrivedAt: number;
}

export interface IngestCounts {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
}

export interface PipelineOptions {
  store: Store;
  log: Logger;
  clock: Clock;
  /** Inputs per store batch. */
  batchRows: number;
  /** Accepted events of a durable batch, in input order: the evaluate/publish steps. */
  onDurable?: (events: CallmonEvent[]) => void;
  /** Retries of a failing store write before the pipeline gives up (backoff doubles from 250 ms). */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * Parse, fingerprint and encode each batch elsewhere (worker threads: parse-workers.ts)
   * instead of on this thread as inputs arrive; embedded store only. The events come
   * back too only where they are needed: for `onDurable` and for {@link submit}.
   */
  parser?: BatchParser;
  /** Batches handed on but not yet durable before `offer` waits (default 2). */
  maxBatchesInFlight?: number;
}

/** Where a batch is parsed when not on the pipeline's thread. */
export interface BatchParser {
  parse(inputs: readonly RawInput[], withEvents: boolean): Promise<ParsedBatch>;
}

type Validated = ValidInput | EncodedInput | { ok: false; record: RejectedRecord };
type Valid = ValidInput | EncodedInput;

const utf8 = new TextDecoder();

/**
 * An input that parsed, and (once accepted) the record the store writes: the raw line is
 * decoded only if asked for, since the store copies its bytes as they are.
 */
class ValidInput implements EventRecord {
  readonly ok = true;
  #fingerprint: string | undefined;

  constructor(
    readonly input: RawInput,
    readonly event: CallmonEvent,
  ) {}

  get force(): string {
    return this.event.force;
  }

  get id(): string {
    return this.event.id;
  }

  /** Computed once, when first asked: to decide a repeat, or to write the row. */
  get fingerprint(): string {
    this.#fingerprint ??= eventFingerprint(this.event);
    return this.#fingerprint;
  }

  /** The line as text, as `TextDecoder` gives it: without a leading byte order mark. */
  get raw(): string {
    return utf8.decode(this.input.bytes);
  }

  /** The UTF-8 of {@link raw}: the bytes received, less a leading byte order mark. */
  get rawBytes(): Uint8Array {
    const bytes = this.input.bytes;
    return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  }

  get arrivedAt(): number {
    return this.input.arrivedAt;
  }

  get position(): SourcePosition {
    return this.input.position;
  }
}

/** An input parsed and encoded on a worker: its store row, and its fingerprint on demand. */
class EncodedInput implements EncodedEventRow {
  readonly ok = true;

  constructor(
    readonly input: RawInput,
    private readonly batch: ParsedBatch,
    private readonly index: number,
    readonly force: string,
    readonly id: string,
    readonly start: number,
    readonly end: number,
  ) {}

  get rows(): Uint8Array {
    return this.batch.rows;
  }

  get fingerprint(): string {
    return fingerprintOf(this.batch, this.index);
  }

  /** The event, when the batch was parsed with its events. */
  get event(): CallmonEvent {
    const event = this.batch.events?.[this.index];
    if (event == null) throw new Error('this batch was parsed without its events');
    return event;
  }
}

/** A batch parsed by a {@link BatchParser}, as the pipeline decides on it. */
function fromParsed(inputs: readonly RawInput[], batch: ParsedBatch): Validated[] {
  const validated: Validated[] = [];
  const { rejections, rowEnds, ids, forces } = batch;
  let rejection = 0;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index]!;
    const rejected = rejections[rejection];
    if (rejected?.index === index) {
      rejection++;
      const record: RejectedRecord = {
        raw: input.bytes,
        reason: rejected.reason,
        detail: rejected.detail,
        arrivedAt: input.arrivedAt,
        position: input.position,
      };
      if (rejected.field !== undefined) record.field = rejected.field;
      validated.push({ ok: false, record });
      continue;
    }
    const start = index === 0 ? 0 : rowEnds[index - 1]!;
    validated.push(
      new EncodedInput(input, batch, index, forces[index]!, ids[index]!, start, rowEnds[index]!),
    );
  }
  return validated;
}

/** decode + validate: the contract's parser, with a rejected-event record for every failure. */
export function validate(input: RawInput): Validated {
  const parsed = parseEvent(input.bytes);
  if (parsed.ok) return new ValidInput(input, parsed.event);
  const record: RejectedRecord = {
    raw: input.bytes,
    reason: parsed.reason,
    detail: parsed.detail,
    arrivedAt: input.arrivedAt,
    position: input.position,
  };
  if (parsed.field !== undefined) record.field = parsed.field;
  return { ok: false, record };
}

/** The deduplication token of a batch: where it came from and what it holds. */
export function batchToken(inputs: readonly RawInput[]): string {
  const token = new BatchToken();
  for (const input of inputs) token.add(input);
  return token.value();
}

/**
 * {@link batchToken}, built one input at a time as the batch fills. Lines read from one
 * chunk of a file lie back to back, one newline apart, so a run of them is hashed with
 * one call instead of two per line (the bytes hashed are the same).
 */
class BatchToken {
  private first: SourcePosition | undefined;
  private last: SourcePosition | undefined;
  private readonly digest: Hash = createHash('sha256');
  /** Bytes added but not hashed yet: `run` from its start up to `runEnd`. */
  private run: Uint8Array | undefined;
  private runEnd = 0;

  add(input: RawInput): void {
    this.first ??= input.position;
    this.last = input.position;
    const bytes = input.bytes;
    const run = this.run;
    if (
      run !== undefined &&
      bytes.buffer === run.buffer &&
      bytes.byteOffset === this.runEnd + 1 &&
      run[this.runEnd - run.byteOffset] === NEWLINE
    ) {
      this.runEnd = bytes.byteOffset + bytes.byteLength;
      return;
    }
    this.hashRun();
    this.run = new Uint8Array(
      bytes.buffer,
      bytes.byteOffset,
      bytes.buffer.byteLength - bytes.byteOffset,
    );
    this.runEnd = bytes.byteOffset + bytes.byteLength;
  }

  value(): string {
    this.hashRun();
    const first = this.first!;
    return `${first.kind}:${first.name}:${first.partition}:${first.offset}-${this.last!.offset}:${this.digest.digest('hex').slice(0, 16)}`;
  }

  private hashRun(): void {
    const run = this.run;
    if (run === undefined) return;
    this.digest.update(run.subarray(0, this.runEnd - run.byteOffset)).update('\n');
    this.run = undefined;
  }
}

const NEWLINE = 0x0a;

/**
 * Batches handed on but not yet durable before `offer` waits: one being written while
 * the next is validated and checked for duplicates, so the engine's work (on its own
 * threads) overlaps the parsing (on this one).
 */
const MAX_BATCHES_IN_FLIGHT = 2;

/** A batch's outcome, decided against everything before it. */
interface Decided {
  events: Valid[];
  rejected: RejectedRecord[];
}

/** What one batch handed on with {@link IngestPipeline.submit} came to, once durable. */
export interface BatchOutcome {
  counts: IngestCounts;
  /** Its accepted events, in input order. */
  events: CallmonEvent[];
}

/** How one batch is stored, where it differs from the pipeline's options. */
export interface BatchOptions {
  /** The store this batch is looked up in and written to (e.g. a chunk read again). */
  store?: Store;
  /** The wait between retries of this batch's store calls. */
  sleep?: (ms: number) => Promise<void>;
}

const NO_DECISION: Decided = { events: [], rejected: [] };
const ignore = () => {};

/**
 * The first copy of each id a batch saw, by force then id: its fingerprint, or the input
 * itself (whose fingerprint is worked out only if a repeat comes to compare with it).
 */
type FirstCopies = Map<string, Map<string, string | Valid>>;

/** What the store held of a batch's ids: the first copy's fingerprint, by force then id. */
type StoredCopies = Map<string, Map<string, string>>;

export class IngestPipeline {
  readonly counts: IngestCounts = emptyCounts();
  /** The batch being filled: its inputs validated as they come, and its token so far. */
  private buffer: Validated[] = [];
  /** The batch being filled, with a {@link BatchParser}: its inputs as they came. */
  private unparsed: RawInput[] = [];
  private token = new BatchToken();
  /** The last batch's decision: batches are decided one at a time, in order. */
  private deciding: Promise<Decided> = Promise.resolve(NO_DECISION);
  /**
   * The last batch's write: batches are written one at a time, in order, and each
   * settles only after the one before it, so this settles after every batch so far.
   */
  private writing: Promise<unknown> = Promise.resolve();
  /** A batch failed: every batch handed on after it fails too (see {@link submit}). */
  private failed = false;
  /** Writes not yet settled, oldest first (a failed one stays, so the next offer throws). */
  private readonly inFlight: Promise<void>[] = [];
  /**
   * The first copies seen by each batch not yet durable, oldest first. A batch's look-up
   * in the store cannot see these, so its decision consults them; once a batch is
   * durable the store answers for it, and this run keeps nothing per event.
   */
  private unwritten: FirstCopies[] = [];

  private readonly options: Required<
    Omit<PipelineOptions, 'onDurable' | 'parser' | 'maxBatchesInFlight'>
  > &
    Pick<PipelineOptions, 'onDurable' | 'parser'>;
  private readonly maxBatchesInFlight: number;

  constructor(options: PipelineOptions) {
    this.options = {
      maxRetries: 8,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
    this.maxBatchesInFlight = options.maxBatchesInFlight ?? MAX_BATCHES_IN_FLIGHT;
  }

  /**
   * Take one input; hands a batch on when the buffer is full, and waits while
   * {@link MAX_BATCHES_IN_FLIGHT} batches are not yet durable. Throws once a batch failed.
   */
  async offer(input: RawInput): Promise<void> {
    await this.add(input);
  }

  /**
   * {@link offer} without a promise per input: returns one only when the caller must
   * wait for it before the next input (a file read line by line need not `await` each).
   */
  add(input: RawInput): Promise<void> | undefined {
    let buffered: number;
    if (this.options.parser === undefined) {
      // Validated here rather than when the batch is full, so that the parsing is spread
      // between reads and the engine's completions are not held up behind a whole batch.
      buffered = this.buffer.push(validate(input));
    } else {
      buffered = this.unparsed.push(input);
    }
    this.token.add(input);
    if (buffered >= this.options.batchRows) this.dispatchBuffer();
    return this.inFlight.length > this.maxBatchesInFlight ? this.drain() : undefined;
  }

  private async drain(): Promise<void> {
    while (this.inFlight.length > this.maxBatchesInFlight) await this.inFlight[0];
  }

  /** Write whatever is buffered; resolves when every batch so far is durable. */
  async flush(): Promise<void> {
    this.dispatchBuffer();
    await this.writing;
  }

  /**
   * Hand on one whole batch now (a Kafka chunk), ahead of any buffered by {@link offer}
   * (a pipeline is fed one way or the other); resolves with its own counts and events
   * once it is durable. Batches submitted while others are in flight are decided
   * against those first, so batches from several sources (partitions) overlap: one is
   * validated while the one before is written. If a batch fails, every batch submitted
   * after it and before the failure was seen fails with it (their decisions may rest on
   * its events); the next batch starts afresh, once every earlier one has settled.
   */
  submit(inputs: readonly RawInput[], options: BatchOptions = {}): Promise<BatchOutcome> {
    if (this.failed) this.restart();
    const token = new BatchToken();
    for (const input of inputs) token.add(input);
    const { parser } = this.options;
    let validated: Validated[] | Promise<Validated[]>;
    if (parser === undefined) {
      validated = [];
      for (const input of inputs) validated.push(validate(input));
    } else {
      validated = parser.parse(inputs, true).then((batch) => fromParsed(inputs, batch));
    }
    return this.dispatch(validated, token.value(), options, true);
  }

  /** After a failure: a fresh chain, begun once the old one has settled in full. */
  private restart(): void {
    const settled = this.writing.then(ignore, ignore);
    this.failed = false;
    this.unwritten = [];
    this.deciding = settled.then(() => NO_DECISION);
    this.writing = settled;
    this.inFlight.length = 0;
    this.lookUpAfter = settled;
  }

  /** Look-ups of a restarted chain wait for the old chain's writes to settle. */
  private lookUpAfter: Promise<void> | undefined;

  get buffered(): number {
    return this.buffer.length + this.unparsed.length;
  }

  /**
   * look up → decide → write, each stage in batch order (validation was done by offer).
   * The look-up is sent at once; the decision waits for it and for the previous batch's
   * decision; the write waits for the decision and for the previous batch's write.
   */
  private dispatchBuffer(): void {
    const { parser } = this.options;
    let validated: Validated[] | Promise<Validated[]>;
    if (parser === undefined) {
      if (this.buffer.length === 0) return;
      validated = this.buffer;
      this.buffer = [];
    } else {
      if (this.unparsed.length === 0) return;
      const inputs = this.unparsed;
      this.unparsed = [];
      const withEvents = this.options.onDurable !== undefined;
      validated = parser.parse(inputs, withEvents).then((batch) => fromParsed(inputs, batch));
    }
    const token = this.token.value();
    this.token = new BatchToken();
    // Failures stay in inFlight for offer() and flush() to throw.
    this.dispatch(validated, token, {}, this.options.onDurable !== undefined).catch(ignore);
  }

  private dispatch(
    validating: Validated[] | Promise<Validated[]>,
    token: string,
    options: BatchOptions,
    withEvents: boolean,
  ): Promise<BatchOutcome> {
    const parsed = Promise.resolve(validating);
    // Every batch that is not durable before the look-up below is sent: what the store
    // may not answer for. (Each is decided before this one, so its map is complete then.)
    const earlier = this.unwritten;
    const own: FirstCopies = new Map();
    this.unwritten = [...earlier, own];
    const after = this.lookUpAfter;
    const stored = parsed.then(async (validated) => {
      if (after !== undefined) await after;
      return this.lookUp(validated, options);
    });
    const decided = Promise.all([parsed, stored, this.deciding]).then(([validated, known]) =>
      this.decide(validated, own, earlier, known),
    );
    // Awaited below only once the write before has settled: handled meanwhile.
    decided.catch(ignore);
    this.deciding = decided;
    const previous = this.writing;
    const written = (async () => {
      await previous;
      const outcome = await decided;
      const result = await this.write(outcome, token, (await parsed).length, options, withEvents);
      this.unwritten = this.unwritten.filter((copies) => copies !== own);
      return result;
    })();
    this.writing = written;
    const done = written.then(ignore);
    this.inFlight.push(done);
    // Settled in order, so the one settling is the oldest. A failure is handled here
    // (no unhandled rejection) and stays in the list for offer() and flush() to throw.
    done.then(
      () => this.inFlight.shift(),
      () => {
        this.failed = true;
      },
    );
    return written;
  }

  private async write(
    outcome: Decided,
    token: string,
    inputs: number,
    options: BatchOptions,
    withEvents: boolean,
  ): Promise<BatchOutcome> {
    const { events, rejected } = outcome;
    await this.store(events, rejected, token, options);
    const counts = this.count(events, rejected);
    this.options.log.debug(
      { batch: token, inputs, accepted: events.length, rejected: rejected.length },
      'batch stored',
    );
    // Parsed elsewhere, the events come back only when asked for.
    const accepted = withEvents ? events.map((record) => record.event) : [];
    if (accepted.length > 0) this.options.onDurable?.(accepted);
    return { counts, events: accepted };
  }

  /**
   * What the store already holds of a batch's ids, by force: the first copy of each, be
   * it from an earlier run, a batch written before a crash, or an earlier batch of this
   * run that is durable by now.
   */
  private async lookUp(
    validated: readonly Validated[],
    options: BatchOptions,
  ): Promise<StoredCopies> {
    const store = options.store ?? this.options.store;
    const idsByForce = new Map<string, string[]>();
    for (const item of validated) {
      if (!item.ok) continue;
      const { force, id } = item;
      let ids = idsByForce.get(force);
      if (ids === undefined) {
        ids = [];
        idsByForce.set(force, ids);
      }
      ids.push(id);
    }
    const stored: StoredCopies = new Map();
    for (const [force, ids] of idsByForce) {
      stored.set(
        force,
        await this.withRetry(
          'look up stored ids',
          () => store.knownFingerprints(force, ids),
          options.sleep,
        ),
      );
    }
    return stored;
  }

  /**
   * First copy wins: against earlier lines of this batch, earlier batches not yet
   * durable when this batch's look-up was sent, and what the store held then.
   */
  private decide(
    validated: readonly Validated[],
    own: FirstCopies,
    earlier: readonly FirstCopies[],
    stored: StoredCopies,
  ): Decided {
    const events: Valid[] = [];
    const rejected: RejectedRecord[] = [];
    // The maps of the force of the previous line: a batch is mostly one force.
    let force: string | undefined;
    let seen = new Map<string, string | Valid>();
    let before: Array<Map<string, string | Valid>> = [];
    let known: Map<string, string> | undefined;
    for (const item of validated) {
      if (!item.ok) {
        rejected.push(item.record);
        continue;
      }
      const { input, id } = item;
      if (item.force !== force) {
        force = item.force;
        seen = own.get(force) ?? new Map();
        own.set(force, seen);
        before = [];
        for (const copies of earlier) {
          const ofForce = copies.get(force);
          if (ofForce !== undefined) before.push(ofForce);
        }
        known = stored.get(force);
      }
      let first = seen.get(id);
      if (first === undefined) {
        for (let index = before.length - 1; index >= 0 && first === undefined; index--) {
          first = before[index]!.get(id);
        }
        first ??= known?.get(id);
        seen.set(id, first ?? item);
      }
      if (first === undefined) {
        events.push(item);
        continue;
      }
      const fingerprint = item.fingerprint;
      const firstPrint = typeof first === 'string' ? first : first.fingerprint;
      const reason = firstPrint === fingerprint ? 'duplicate' : 'conflict';
      rejected.push({
        raw: input.bytes,
        reason,
        detail:
          reason === 'duplicate'
            ? `event ${id} of ${force} was already accepted`
            : `event ${id} of ${force} was already accepted with different content`,
        force,
        eventId: id,
        fingerprint,
        arrivedAt: input.arrivedAt,
        position: input.position,
      });
    }
    return { events, rejected };
  }

  private async store(
    events: Valid[],
    rejected: RejectedRecord[],
    token: string,
    options: BatchOptions,
  ): Promise<void> {
    const store = options.store ?? this.options.store;
    if (events.length > 0) {
      await this.withRetry(
        'store events',
        () =>
          this.options.parser === undefined
            ? store.insertEvents(events as ValidInput[], { dedupToken: token })
            : store.insertEncodedEvents(events as EncodedInput[], { dedupToken: token }),
        options.sleep,
      );
    }
    if (rejected.length > 0) {
      await this.withRetry(
        'store rejected events',
        () => store.insertRejected(rejected, { dedupToken: token }),
        options.sleep,
      );
    }
  }

  /** Add a durable batch to the totals; returns its own counts. */
  private count(events: Valid[], rejected: RejectedRecord[]): IngestCounts {
    const batch: IngestCounts = {
      accepted: events.length,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
      rejectedByReason: {},
    };
    for (const record of rejected) {
      if (record.reason === 'duplicate') batch.duplicates++;
      else if (record.reason === 'conflict') batch.conflicts++;
      else {
        batch.rejected++;
        batch.rejectedByReason[record.reason] = (batch.rejectedByReason[record.reason] ?? 0) + 1;
      }
    }
    addCounts(this.counts, batch);
    return batch;
  }

  /** Retry a store call with doubling backoff; the same batch and token every time. */
  private async withRetry<T>(
    what: string,
    work: () => Promise<T>,
    sleep = this.options.sleep,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt >= this.options.maxRetries || (error as Error).name === 'StoreFailedError')
          throw error;
        const delay = Math.min(250 * 2 ** attempt, 30_000);
        this.options.log.warn(
          { err: error, attempt: attempt + 1, delayMs: delay },
          `${what} failed; retrying`,
        );
        await sleep(delay);
      }
    }
  }
}

/** Counts of nothing yet. */
export function emptyCounts(): IngestCounts {
  return { accepted: 0, duplicates: 0, conflicts: 0, rejected: 0, rejectedByReason: {} };
}

/** Add `batch` into `total`. */
export function addCounts(total: IngestCounts, batch: IngestCounts): void {
  total.accepted += batch.accepted;
  total.duplicates += batch.duplicates;
  total.conflicts += batch.conflicts;
  total.rejected += batch.rejected;
  for (const [reason, count] of Object.entries(batch.rejectedByReason)) {
    const key = reason as RejectReason;
    total.rejectedByReason[key] = (total.rejectedByReason[key] ?? 0) + count;
  }
}
