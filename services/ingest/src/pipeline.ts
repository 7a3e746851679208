import { createHash } from 'node:crypto';
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

type Validated =
  | { ok: true; input: RawInput; event: CallmonEvent; raw: string }
  | { ok: false; record: RejectedRecord };

const utf8 = new TextDecoder();

/** decode + validate: the contract's parser, with a rejected-event record for every failure. */
export function validate(input: RawInput): Validated {
  const parsed = parseEvent(input.bytes);
  if (parsed.ok) return { ok: true, input, event: parsed.event, raw: utf8.decode(input.bytes) };
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
  const first = inputs[0]!.position;
  const last = inputs[inputs.length - 1]!.position;
  const digest = createHash('sha256');
  for (const input of inputs) digest.update(input.bytes).update('\n');
  return `${first.kind}:${first.name}:${first.partition}:${first.offset}-${last.offset}:${digest.digest('hex').slice(0, 16)}`;
}

export class IngestPipeline {
  readonly counts: IngestCounts = {
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    rejectedByReason: {},
  };
  private buffer: RawInput[] = [];
  private writing: Promise<void> = Promise.resolve();
  /** Fingerprints of the first copies accepted in this run, by force then id. */
  private readonly accepted = new Map<string, Map<string, string>>();
  private readonly options: Required<Omit<PipelineOptions, 'onDurable'>> &
    Pick<PipelineOptions, 'onDurable'>;

  constructor(options: PipelineOptions) {
    this.options = {
      maxRetries: 8,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /** Take one input; writes a batch when the buffer is full. */
  async offer(input: RawInput): Promise<void> {
    this.buffer.push(input);
    if (this.buffer.length >= this.options.batchRows) await this.flush();
  }

  /** Write whatever is buffered. Batches are written one at a time, in order. */
  flush(): Promise<void> {
    if (this.buffer.length === 0) return this.writing;
    const batch = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(() => this.process(batch));
    return this.writing;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  private async process(batch: RawInput[]): Promise<void> {
    const token = batchToken(batch);
    const validated = batch.map(validate);
    const { events, rejected } = await this.dedupe(validated);
    await this.store(events, rejected, token);
    this.count(events, rejected);
    this.options.log.debug(
      { batch: token, inputs: batch.length, accepted: events.length, rejected: rejected.length },
      'batch stored',
    );
    if (events.length > 0) this.options.onDurable?.(events.map((record) => record.event));
  }

  /**
   * First copy wins: against this run's earlier batches, earlier lines of this batch,
   * and what the store already holds (a re-run, or a batch written before a crash).
   */
  private async dedupe(
    validated: Validated[],
  ): Promise<{ events: EventRecord[]; rejected: RejectedRecord[] }> {
    const unseenByForce = new Map<string, string[]>();
    for (const item of validated) {
      if (!item.ok) continue;
      const { force, id } = item.event;
      if (this.accepted.get(force)?.has(id)) continue;
      let ids = unseenByForce.get(force);
      if (ids === undefined) {
        ids = [];
        unseenByForce.set(force, ids);
      }
      ids.push(id);
    }
    const stored = new Map<string, Map<string, string>>();
    for (const [force, ids] of unseenByForce) {
      stored.set(
        force,
        await this.withRetry('look up stored ids', () =>
          this.options.store.knownFingerprints(force, ids),
        ),
      );
    }

    const events: EventRecord[] = [];
    const rejected: RejectedRecord[] = [];
    for (const item of validated) {
      if (!item.ok) {
        rejected.push(item.record);
        continue;
      }
      const { event, input, raw } = item;
      const fingerprint = eventFingerprint(event);
      let seen = this.accepted.get(event.force);
      if (seen === undefined) {
        seen = new Map();
        this.accepted.set(event.force, seen);
      }
      const first = seen.get(event.id) ?? stored.get(event.force)?.get(event.id);
      if (first === undefined) {
        seen.set(event.id, fingerprint);
        events.push({ event, raw, arrivedAt: input.arrivedAt, position: input.position });
        continue;
      }
      if (!seen.has(event.id)) seen.set(event.id, first);
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
