import { createHash, type Hash } from 'node:crypto';
import type { Clock } from '@callmon/compliance';
import {
  type CallmonEvent,
  eventFingerprint,
  parseEvent,
  type RejectReason,
} from '@callmon/events';
import type { EventRecord, RejectedRecord, SourcePosition, Store } from '@callmon/store';
import type { Logger } from 'pino';

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
}

type Validated = ValidInput | { ok: false; record: RejectedRecord };

const utf8 = new TextDecoder();

/**
 * An input that parsed, and (once accepted) the record the store writes: the raw line is
 * decoded only if asked for, since the store copies its bytes as they are.
 */
class ValidInput implements EventRecord {
  readonly ok = true;
  /** Set when the batch is decided. */
  fingerprint?: string;

  constructor(
    readonly input: RawInput,
    readonly event: CallmonEvent,
  ) {}

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
  events: EventRecord[];
  rejected: RejectedRecord[];
}

/** The fingerprint of the first copy of each id a batch saw, by force then id. */
type FirstCopies = Map<string, Map<string, string>>;

export class IngestPipeline {
  readonly counts: IngestCounts = {
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    rejectedByReason: {},
  };
  /** The batch being filled: its inputs validated as they come, and its token so far. */
  private buffer: Validated[] = [];
  private token = new BatchToken();
  /** The last batch's decision: batches are decided one at a time, in order. */
  private deciding: Promise<Decided> = Promise.resolve({ events: [], rejected: [] });
  /** The last batch's write: batches are written one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();
  /** Writes not yet settled, oldest first (a failed one stays, so the next offer throws). */
  private readonly inFlight: Promise<void>[] = [];
  /**
   * The first copies seen by each batch not yet durable, oldest first. A batch's look-up
   * in the store cannot see these, so its decision consults them; once a batch is
   * durable the store answers for it, and this run keeps nothing per event.
   */
  private unwritten: FirstCopies[] = [];
  private readonly options: Required<Omit<PipelineOptions, 'onDurable'>> &
    Pick<PipelineOptions, 'onDurable'>;

  constructor(options: PipelineOptions) {
    this.options = {
      maxRetries: 8,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /**
   * Take one input; hands a batch on when the buffer is full, and waits while
   * {@link MAX_BATCHES_IN_FLIGHT} batches are not yet durable. Throws once a batch failed.
   */
  async offer(input: RawInput): Promise<void> {
    // Validated here rather than when the batch is full, so that the parsing is spread
    // between reads and the engine's completions are not held up behind a whole batch.
    this.buffer.push(validate(input));
    this.token.add(input);
    if (this.buffer.length >= this.options.batchRows) this.dispatch();
    while (this.inFlight.length > MAX_BATCHES_IN_FLIGHT) await this.inFlight[0];
  }

  /** Write whatever is buffered; resolves when every batch so far is durable. */
  flush(): Promise<void> {
    this.dispatch();
    return this.writing;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * look up → decide → write, each stage in batch order (validation was done by offer).
   * The look-up is sent at once; the decision waits for it and for the previous batch's
   * decision; the write waits for the decision and for the previous batch's write.
   */
  private dispatch(): void {
    if (this.buffer.length === 0) return;
    const validated = this.buffer;
    const token = this.token.value();
    this.buffer = [];
    this.token = new BatchToken();
    // Every batch that is not durable before the look-up below is sent: what the store
    // may not answer for. (Each is decided before this one, so its map is complete then.)
    const earlier = this.unwritten;
    const own: FirstCopies = new Map();
    this.unwritten = [...earlier, own];
    const stored = this.lookUp(validated);
    const decided = Promise.all([stored, this.deciding]).then(([known]) =>
      this.decide(validated, own, earlier, known),
    );
    this.deciding = decided;
    const written = Promise.all([decided, this.writing]).then(async ([outcome]) => {
      await this.write(outcome, token, validated.length);
      this.unwritten = this.unwritten.filter((copies) => copies !== own);
    });
    this.writing = written;
    this.inFlight.push(written);
    // Settled in order, so the one settling is the oldest. A failure is handled here
    // (no unhandled rejection) and stays in the list for offer() and flush() to throw.
    written.then(
      () => this.inFlight.shift(),
      () => {},
    );
  }

  private async write(outcome: Decided, token: string, inputs: number): Promise<void> {
    const { events, rejected } = outcome;
    await this.store(events, rejected, token);
    this.count(events, rejected);
    this.options.log.debug(
      { batch: token, inputs, accepted: events.length, rejected: rejected.length },
      'batch stored',
    );
    if (events.length > 0) this.options.onDurable?.(events.map((record) => record.event));
  }

  /**
   * What the store already holds of a batch's ids, by force: the first copy of each, be
   * it from an earlier run, a batch written before a crash, or an earlier batch of this
   * run that is durable by now.
   */
  private async lookUp(validated: readonly Validated[]): Promise<FirstCopies> {
    const idsByForce = new Map<string, string[]>();
    for (const item of validated) {
      if (!item.ok) continue;
      const { force, id } = item.event;
      let ids = idsByForce.get(force);
      if (ids === undefined) {
        ids = [];
        idsByForce.set(force, ids);
      }
      ids.push(id);
    }
    const stored: FirstCopies = new Map();
    for (const [force, ids] of idsByForce) {
      stored.set(
        force,
        await this.withRetry('look up stored ids', () =>
          this.options.store.knownFingerprints(force, ids),
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
    stored: FirstCopies,
  ): Decided {
    const events: EventRecord[] = [];
    const rejected: RejectedRecord[] = [];
    // The maps of the force of the previous line: a batch is mostly one force.
    let force: string | undefined;
    let seen = new Map<string, string>();
    let before: Array<Map<string, string>> = [];
    let known: Map<string, string> | undefined;
    for (const item of validated) {
      if (!item.ok) {
        rejected.push(item.record);
        continue;
      }
      const { event, input } = item;
      const id = event.id;
      if (event.force !== force) {
        force = event.force;
        seen = own.get(force) ?? new Map();
        own.set(force, seen);
        before = [];
        for (const copies of earlier) {
          const ofForce = copies.get(force);
          if (ofForce !== undefined) before.push(ofForce);
        }
        known = stored.get(force);
      }
      const fingerprint = eventFingerprint(event);
      let first = seen.get(id);
      if (first === undefined) {
        for (let index = before.length - 1; index >= 0 && first === undefined; index--) {
          first = before[index]!.get(id);
        }
        first ??= known?.get(id);
        seen.set(id, first ?? fingerprint);
      }
      if (first === undefined) {
        item.fingerprint = fingerprint;
        events.push(item);
        continue;
      }
      const reason = first === fingerprint ? 'duplicate' : 'conflict';
      rejected.push({
        raw: input.bytes,
        reason,
        detail:
          reason === 'duplicate'
            ? `event ${event.id} of ${event.force} was already accepted`
            : `event ${event.id} of ${event.force} was already accepted with different content`,
        force: event.force,
        eventId: event.id,
        fingerprint,
        arrivedAt: input.arrivedAt,
        position: input.position,
      });
    }
    return { events, rejected };
  }

  private async store(
    events: EventRecord[],
    rejected: RejectedRecord[],
    token: string,
  ): Promise<void> {
    const { store } = this.options;
    if (events.length > 0) {
      await this.withRetry('store events', () => store.insertEvents(events, { dedupToken: token }));
    }
    if (rejected.length > 0) {
      await this.withRetry('store rejected events', () =>
        store.insertRejected(rejected, { dedupToken: token }),
      );
    }
  }

  private count(events: EventRecord[], rejected: RejectedRecord[]): void {
    const counts = this.counts;
    counts.accepted += events.length;
    for (const record of rejected) {
      if (record.reason === 'duplicate') counts.duplicates++;
      else if (record.reason === 'conflict') counts.conflicts++;
      else {
        counts.rejected++;
        counts.rejectedByReason[record.reason] = (counts.rejectedByReason[record.reason] ?? 0) + 1;
      }
    }
  }

  /** Retry a store call with doubling backoff; the same batch and token every time. */
  private async withRetry<T>(what: string, work: () => Promise<T>): Promise<T> {
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
        await this.options.sleep(delay);
      }
    }
  }
}
