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
  KnownCopy,
  RejectedRecord,
  SourceKind,
  SourcePosition,
  Store,
} from '@callmon/store';
import type { Logger } from 'pino';
import { FirstCopies, type ForceCopies } from './first-copies.ts';
import type { LineBatch } from './ndjson-source.ts';
import { eventOf, eventTimeOf, fingerprintOf, type ParsedBatch } from './parse-workers.ts';
import type { WriteJournal } from './write-journal.ts';

/**
 * The ingest pipeline, as one sentence: decode → validate → dedupe → store → evaluate →
 * publish. Inputs are buffered into deterministic batches (the same inputs always make
 * the same batch, with the same deduplication token), so a retried batch cannot be
 * counted twice. Accepted events reach the live engines through `onDurable` once their
 * batch is durable, or through a batch's `onDecided` as soon as it is decided (the Kafka
 * ingest: the write is then off the way from an event to its breach).
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
  /**
   * Where batches are looked up and written. A store still opening may be given: lines
   * are parsed meanwhile, and the first look-up waits for it (failing every batch, without
   * retries, should it not open).
   */
  store: Store | Promise<Store>;
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
  /**
   * Where the batches being written are noted, so that a run after a crash checks the
   * batches the crash may have cut short (write-journal.ts). For a source read the same way
   * again (a file); a Kafka chunk read again is checked by its crash marker instead.
   */
  writeJournal?: WriteJournal;
}

/** Where a batch is parsed when not on the pipeline's thread. */
export interface BatchParser {
  parse(inputs: readonly RawInput[], withEvents: boolean): Promise<ParsedBatch>;
  /** The same for lines read as one buffer (which the parser may take and hand back). */
  parseLines(lines: LineBatch, source: LineSource, withEvents: boolean): Promise<ParsedBatch>;
}

/** Where a {@link LineBatch} came from, and when it arrived. */
export interface LineSource {
  kind: SourceKind;
  name: string;
  partition: number;
  /** When the ingest read it (UTC ms, ingest clock). */
  arrivedAt: number;
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

  /** The event's time (UTC ms). */
  get at(): number {
    return this.event.at;
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

/** The input at an index of a parsed batch, made only when asked for. */
type InputAt = (index: number) => RawInput;

/** An input parsed and encoded on a worker: its store row, and its fingerprint on demand. */
class EncodedInput implements EncodedEventRow {
  // Four fields: a file backfill holds a million of these until their batches are durable,
  // so what can be read off the batch is (force, row bounds, `ok` on the prototype).
  constructor(
    private readonly inputAt: InputAt,
    private readonly batch: ParsedBatch,
    private readonly index: number,
    readonly id: string,
  ) {}

  get ok(): true {
    return true;
  }

  get force(): string {
    return this.batch.forceNames[this.batch.forceOf[this.index]!]!;
  }

  /** Where its row starts and ends in the batch's rows. */
  get start(): number {
    return this.index === 0 ? 0 : this.batch.rowEnds[this.index - 1]!;
  }

  get end(): number {
    return this.batch.rowEnds[this.index]!;
  }

  get rows(): Uint8Array {
    return this.batch.rows;
  }

  /** The input as received (for a duplicate's or conflict's record). */
  get input(): RawInput {
    return this.inputAt(this.index);
  }

  get fingerprint(): string {
    return fingerprintOf(this.batch, this.index);
  }

  /** The event's time (UTC ms), when the batch was parsed with its events. */
  get at(): number {
    return eventTimeOf(this.batch, this.index);
  }

  /** The event, when the batch was parsed with its events. */
  get event(): CallmonEvent {
    const event = eventOf(this.batch, this.index, this.id);
    if (event === null) throw new Error('this batch was parsed without its events');
    return event;
  }
}

/** A batch parsed by a {@link BatchParser}, as the pipeline decides on it. */
function fromParsed(count: number, inputAt: InputAt, batch: ParsedBatch): Validated[] {
  const validated: Validated[] = [];
  const { rejections, ids } = batch;
  let rejection = 0;
  for (let index = 0; index < count; index++) {
    const rejected = rejections[rejection];
    if (rejected?.index === index) {
      rejection++;
      const input = inputAt(index);
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
    validated.push(new EncodedInput(inputAt, batch, index, ids[index]!));
  }
  return validated;
}

/** The events of accepted records, those dated from `liveFrom` on where it is given. */
function liveEvents(records: readonly Valid[], liveFrom: number | undefined): CallmonEvent[] {
  if (liveFrom === undefined) return records.map((record) => record.event);
  const events: CallmonEvent[] = [];
  for (const record of records) {
    if (record.at >= liveFrom) events.push(record.event);
  }
  return events;
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
  private source: Omit<SourcePosition, 'offset'> | undefined;
  private firstOffset = 0;
  private lastOffset = 0;
  private readonly digest: Hash = createHash('sha256');
  /** Bytes added but not hashed yet: `run` (the buffer they lie in) from `runStart` to `runEnd`. */
  private run: Uint8Array | undefined;
  private runStart = 0;
  private runEnd = 0;

  add(input: RawInput): void {
    const { bytes, position } = input;
    const start = bytes.byteOffset;
    this.addLine(bytes.buffer, start, start + bytes.byteLength, position, position.offset);
  }

  /** A line that lies in `buffer` from `start` to `end`, from `source` at `offset`. */
  addLine(
    buffer: ArrayBufferLike,
    start: number,
    end: number,
    source: Omit<SourcePosition, 'offset'>,
    offset: number,
  ): void {
    if (this.source === undefined) {
      this.source = source;
      this.firstOffset = offset;
    }
    this.lastOffset = offset;
    const run = this.run;
    if (
      run !== undefined &&
      run.buffer === buffer &&
      start === this.runEnd + 1 &&
      run[this.runEnd] === NEWLINE
    ) {
      this.runEnd = end;
      return;
    }
    this.hashRun();
    this.run = new Uint8Array(buffer);
    this.runStart = start;
    this.runEnd = end;
  }

  /** The offset of the last line, when {@link addLine} was given a run of lines at once. */
  lastLine(offset: number): void {
    this.lastOffset = offset;
  }

  value(): string {
    this.hashRun();
    const { kind, name, partition } = this.source!;
    return `${kind}:${name}:${partition}:${this.firstOffset}-${this.lastOffset}:${this.digest.digest('hex').slice(0, 16)}`;
  }

  private hashRun(): void {
    const run = this.run;
    if (run === undefined) return;
    this.digest.update(run.subarray(this.runStart, this.runEnd)).update('\n');
    this.run = undefined;
  }
}

const NEWLINE = 0x0a;

/** Where a first copy came from: a stored one, or an input of this run. */
const placeOf = (first: KnownCopy | Valid): SourcePosition =>
  'input' in first ? first.input.position : first.position;

const samePlace = (a: SourcePosition, b: SourcePosition): boolean =>
  a.offset === b.offset && a.partition === b.partition && a.name === b.name && a.kind === b.kind;

/** {@link batchToken} of a {@link LineBatch}'s lines: the token they get one input at a time. */
export function lineBatchToken(lines: LineBatch, source: LineSource): string {
  const { bytes, starts, ends, numbers } = lines;
  const token = new BatchToken();
  const last = starts.length - 1;
  if (last >= 0 && backToBack(lines)) {
    // The usual file batch: hashed as one run, with no call per line (the same bytes).
    token.addLine(
      bytes.buffer,
      bytes.byteOffset + starts[0]!,
      bytes.byteOffset + ends[last]!,
      source,
      numbers[0]!,
    );
    token.lastLine(numbers[last]!);
    return token.value();
  }
  for (let index = 0; index < starts.length; index++) {
    const start = bytes.byteOffset + starts[index]!;
    const end = bytes.byteOffset + ends[index]!;
    token.addLine(bytes.buffer, start, end, source, numbers[index]!);
  }
  return token.value();
}

/** Whether each line of the batch is followed by the next after one newline and nothing else. */
function backToBack({ bytes, starts, ends }: LineBatch): boolean {
  for (let index = 1; index < starts.length; index++) {
    const end = ends[index - 1]!;
    if (starts[index] !== end + 1 || bytes[end] !== NEWLINE) return false;
  }
  return true;
}

/** Line `index` of a {@link LineBatch} as one input, its bytes in `bytes` (the batch's, maybe handed back). */
function lineInput(
  bytes: Uint8Array,
  lines: LineBatch,
  source: LineSource,
  index: number,
): RawInput {
  return {
    bytes: bytes.subarray(lines.starts[index]!, lines.ends[index]!),
    position: {
      kind: source.kind,
      name: source.name,
      partition: source.partition,
      offset: lines.numbers[index]!,
    },
    arrivedAt: source.arrivedAt,
  };
}

/**
 * Batches handed on but not yet durable before `offer` waits: one being written while
 * the next is validated and checked for duplicates, so the engine's work (on its own
 * threads) overlaps the parsing (on this one).
 */
const MAX_BATCHES_IN_FLIGHT = 2;

/** A batch's outcome, decided against everything before it. */
interface Decided {
  events: Valid[];
  /** The accepted events as the live engines take them, when the batch carries them. */
  accepted: CallmonEvent[];
  rejected: RejectedRecord[];
  /** Duplicates that are their own first copy, read again: counted, not put on record. */
  rereads: number;
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
  /**
   * Called once the batch is decided — before it is written — with its accepted events in
   * input order (batches handed on with their events only). Decisions are made one batch
   * at a time in order, so this sees the batches in the order they were handed on; the
   * same events come again in the outcome once the batch is durable.
   */
  onDecided?: (events: CallmonEvent[]) => void;
  /**
   * Accepted events dated before this instant (UTC ms, asked when the batch is decided) are
   * left out of `onDecided` and of the outcome's events, and never built: the live engines
   * refuse them (beyond their horizon), so a backfill of older events makes none. They are
   * stored and counted as ever.
   */
  liveFrom?: () => number;
  /**
   * This batch may repeat a write cut short by a crash (a Kafka chunk read again): once
   * written, check that the store holds every row of it, and write what is missing again
   * under a token of its own. The engine drops a repeat of a token it has logged, even
   * when the process died after logging it and before its rows were in place. Only for a
   * batch decided as it was the first time (`store` then answers as `rereadStore` does):
   * rows decided differently would be written as if they had been lost.
   */
  verifyStored?: boolean;
}

const NO_DECISION: Decided = { events: [], accepted: [], rejected: [], rereads: 0 };
/** How many times a batch written again may find rows missing and write them once more. */
const MAX_REWRITES = 5;
const ignore = () => {};

/** A durable batch's first copies, to forget once the batch `after` (a dispatch number) is decided. */
interface Retiring {
  after: number;
  batch: number;
}

/** What the store held of a batch's ids: each first copy (fingerprint, place), by force then id. */
type StoredCopies = Map<string, Map<string, KnownCopy>>;

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
   * The first copies decided by batches whose ids a later batch's store look-up may not
   * see: not yet durable, or durable only after that look-up was sent. Decisions consult
   * this one table (one probe a line, whatever the number of batches in flight); a durable
   * batch's entries are forgotten once every batch dispatched before it became durable
   * is decided — from then on the store answers for them, and this run keeps nothing
   * per event. A first copy is the store's answer (fingerprint and place), or the input itself
   * (whose fingerprint is worked out only if a repeat comes to compare with it).
   */
  private firstCopies = new FirstCopies<KnownCopy | Valid>();
  private retiring: Retiring[] = [];
  /** Batches dispatched so far, and the number of the last one decided. */
  private dispatched = 0;
  private decidedUpTo = 0;

  private readonly options: Required<
    Omit<PipelineOptions, 'store' | 'onDurable' | 'parser' | 'maxBatchesInFlight' | 'writeJournal'>
  > &
    Pick<PipelineOptions, 'onDurable' | 'parser' | 'writeJournal'>;
  private readonly maxBatchesInFlight: number;
  /** The store, once open. */
  private readonly storeReady: Promise<Store>;

  constructor(options: PipelineOptions) {
    const { store, ...rest } = options;
    this.options = {
      maxRetries: 8,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...rest,
    };
    this.storeReady = Promise.resolve(store);
    // Seen by the batches that wait for it; a store that never opens is not unhandled.
    this.storeReady.catch(ignore);
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

  /**
   * Take a batch of lines read as one buffer (a file backfill): with a parser the lines
   * go to it as they are, with no object per line here; they form one store batch, so
   * `lines` should hold `batchRows` lines (the last batch fewer). Returns a promise when
   * the caller must wait before the next batch, like {@link add}.
   */
  addLines(lines: LineBatch, source: LineSource): Promise<void> | undefined {
    const count = lines.starts.length;
    if (count === 0) return undefined;
    const { parser } = this.options;
    if (parser === undefined) return this.addEach(lines, source);
    // Whatever `add` buffered goes first, in order.
    this.dispatchBuffer();
    const withEvents = this.options.onDurable !== undefined;
    this.dispatchLines(parser, lines, source, {}, withEvents).catch(ignore);
    return this.inFlight.length > this.maxBatchesInFlight ? this.drain() : undefined;
  }

  /**
   * One batch of lines to the parser, then look up → decide → write. The token is taken
   * first: the parser may take the lines' buffer to another thread.
   */
  private dispatchLines(
    parser: BatchParser,
    lines: LineBatch,
    source: LineSource,
    options: BatchOptions,
    withEvents: boolean,
  ): Promise<BatchOutcome> {
    const token = lineBatchToken(lines, source);
    const count = lines.starts.length;
    const validated = parser
      .parseLines(lines, source, withEvents)
      .then((parsed) =>
        fromParsed(count, (index) => lineInput(parsed.lines, lines, source, index), parsed),
      );
    return this.dispatch(validated, token, options, withEvents);
  }

  /** {@link addLines} without a parser: the lines one input at a time. */
  private async addEach(lines: LineBatch, source: LineSource): Promise<void> {
    for (let index = 0; index < lines.starts.length; index++) {
      const full = this.add(lineInput(lines.bytes, lines, source, index));
      if (full !== undefined) await full;
    }
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
      validated = parser
        .parse(inputs, true)
        .then((batch) => fromParsed(inputs.length, (index) => inputs[index]!, batch));
    }
    return this.dispatch(validated, token.value(), options, true);
  }

  /**
   * {@link submit} for messages lying back to back in one buffer (a Kafka chunk): with a
   * parser they go to it as they are, with no object per message here; without one, one
   * input at a time. The batch token is the one {@link submit} gives the same inputs.
   */
  submitLines(
    lines: LineBatch,
    source: LineSource,
    options: BatchOptions = {},
  ): Promise<BatchOutcome> {
    const { parser } = this.options;
    const count = lines.starts.length;
    if (parser === undefined) {
      const inputs: RawInput[] = [];
      for (let index = 0; index < count; index++) {
        inputs.push(lineInput(lines.bytes, lines, source, index));
      }
      return this.submit(inputs, options);
    }
    if (this.failed) this.restart();
    return this.dispatchLines(parser, lines, source, options, true);
  }

  /** After a failure: a fresh chain, begun once the old one has settled in full. */
  private restart(): void {
    const settled = this.writing.then(ignore, ignore);
    this.failed = false;
    this.firstCopies = new FirstCopies<KnownCopy | Valid>();
    this.retiring = [];
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
      validated = parser
        .parse(inputs, withEvents)
        .then((batch) => fromParsed(inputs.length, (index) => inputs[index]!, batch));
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
    const number = ++this.dispatched;
    const after = this.lookUpAfter;
    const stored = parsed.then(async (validated) => {
      if (after !== undefined) await after;
      return this.lookUp(validated, options);
    });
    const decided = Promise.all([parsed, stored, this.deciding]).then(([validated, known]) => {
      const outcome = this.decide(validated, number, known);
      // Built once (parsed elsewhere, each is made from the scan on asking): for the
      // decision's listener now and the durable outcome later.
      if (withEvents) {
        outcome.accepted = liveEvents(outcome.events, options.liveFrom?.());
        options.onDecided?.(outcome.accepted);
      }
      return outcome;
    });
    // Awaited below only once the write before has settled: handled meanwhile.
    decided.catch(ignore);
    this.deciding = decided;
    const previous = this.writing;
    const written = (async () => {
      await previous;
      const outcome = await decided;
      const result = await this.write(outcome, token, (await parsed).length, options);
      // Batches dispatched up to now may have sent their look-ups before this write.
      this.retiring.push({ after: this.dispatched, batch: number });
      this.forgetRetired();
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
  ): Promise<BatchOutcome> {
    const { events, accepted, rejected, rereads } = outcome;
    await this.store(events, rejected, token, options);
    const counts = this.count(events, rejected, rereads);
    this.options.log.debug(
      { batch: token, inputs, accepted: events.length, rejected: rejected.length },
      'batch stored',
    );
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
    const store = options.store ?? (await this.storeReady);
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
          () => store.knownCopies(force, ids),
          options.sleep,
        ),
      );
    }
    return stored;
  }

  /** Forget the first copies of durable batches that no decision still to come needs. */
  private forgetRetired(): void {
    while (this.retiring.length > 0 && this.retiring[0]!.after <= this.decidedUpTo) {
      this.firstCopies.retireUpTo(this.retiring.shift()!.batch);
    }
  }

  /**
   * First copy wins: against earlier lines of this batch, earlier batches whose ids
   * this batch's look-up may not have seen ({@link firstCopies}), and what the store
   * held when the look-up was sent.
   */
  private decide(validated: readonly Validated[], number: number, stored: StoredCopies): Decided {
    const events: Valid[] = [];
    const rejected: RejectedRecord[] = [];
    const firstCopies = this.firstCopies;
    firstCopies.begin(number);
    // The tables of the force of the previous line: a batch is mostly one force.
    let force: string | undefined;
    let seen: ForceCopies<KnownCopy | Valid> | undefined;
    let known: Map<string, KnownCopy> | undefined;
    let rereads = 0;
    for (const item of validated) {
      if (!item.ok) {
        rejected.push(item.record);
        continue;
      }
      const { id } = item;
      if (item.force !== force) {
        force = item.force;
        seen = firstCopies.force(force);
        known = stored.get(force);
      }
      let first = seen!.get(id);
      if (first === undefined) {
        first = known?.get(id);
        seen!.add(first ?? item);
      }
      if (first === undefined) {
        events.push(item);
        continue;
      }
      const { input, fingerprint } = item;
      const reason = first.fingerprint === fingerprint ? 'duplicate' : 'conflict';
      if (reason === 'duplicate' && samePlace(placeOf(first), input.position)) {
        // The very copy that was accepted, read again (a file ingested again, a new group
        // on a topic): a duplicate, but no new input to put on record.
        rereads++;
        continue;
      }
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
    this.decidedUpTo = number;
    this.forgetRetired();
    return { events, accepted: [], rejected, rereads };
  }

  private async store(
    events: Valid[],
    rejected: RejectedRecord[],
    token: string,
    options: BatchOptions,
  ): Promise<void> {
    const store = options.store ?? (await this.storeReady);
    const journal = this.options.writeJournal;
    const verify = options.verifyStored === true || journal?.cutShort(token) === true;
    journal?.begin(token);
    await this.writeRows(store, events, rejected, token, options);
    if (verify) await this.restoreDropped(store, events, rejected, token, options);
    journal?.end(token);
  }

  /** A batch's accepted events and rejected inputs, each table's write retried on its own. */
  private async writeRows(
    store: Store,
    events: Valid[],
    rejected: RejectedRecord[],
    dedupToken: string,
    options: BatchOptions,
  ): Promise<void> {
    if (events.length > 0) {
      await this.withRetry(
        'store events',
        () =>
          this.options.parser === undefined
            ? store.insertEvents(events as ValidInput[], { dedupToken })
            : store.insertEncodedEvents(events as EncodedInput[], { dedupToken }),
        options.sleep,
      );
    }
    if (rejected.length > 0) {
      await this.withRetry(
        'store rejected events',
        () => store.insertRejected(rejected, { dedupToken }),
        options.sleep,
      );
    }
  }

  /**
   * A batch written again after a crash: the rows the engine dropped as a repeat of its
   * token although they never reached the table are written once more, each time under a
   * new token (`#again-<n>`), until the store holds them all. A second crash inside this
   * loop leaves the same check to the next reading of the batch (a Kafka chunk's crash
   * marker, or the write journal, still names it).
   */
  private async restoreDropped(
    store: Store,
    events: Valid[],
    rejected: RejectedRecord[],
    token: string,
    options: BatchOptions,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const held = await this.withRetry(
        'check a batch written again',
        () => store.rowsOfBatch(token),
        options.sleep,
      );
      const lostEvents = events.filter(
        (event) => !held.events.has(`${event.force}\u0000${event.id}`),
      );
      const lostRejected = rejected.filter(
        (record) => !held.rejectedOffsets.has(record.position.offset),
      );
      if (lostEvents.length === 0 && lostRejected.length === 0) return;
      if (attempt > MAX_REWRITES) {
        throw new Error(
          `batch ${token}: ${lostEvents.length} events and ${lostRejected.length} rejected inputs ` +
            `still missing after ${MAX_REWRITES} rewrites`,
        );
      }
      this.options.log.warn(
        { batch: token, events: lostEvents.length, rejected: lostRejected.length, attempt },
        'rows of a batch written again were missing from the store; writing them again',
      );
      await this.writeRows(store, lostEvents, lostRejected, `${token}#again-${attempt}`, options);
    }
  }

  /** Add a durable batch to the totals; returns its own counts. */
  private count(events: Valid[], rejected: RejectedRecord[], rereads: number): IngestCounts {
    const batch: IngestCounts = {
      accepted: events.length,
      duplicates: rereads,
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
