import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type CallmonEvent,
  eventFingerprint,
  parseEvent,
  type RejectReason,
} from '@callmon/events';
import { encodeEventRow, RowBinaryWriter, type SourceKind } from '@callmon/store';
import type { BatchParser, RawInput } from './pipeline.ts';

/**
 * Worker threads that parse, fingerprint and encode batches of lines for the ingest
 * pipeline (parse-worker.ts). The contract's parser, the fingerprint and the RowBinary
 * encoding are most of the ingest's JavaScript time; on their own threads they run while
 * the pipeline's thread decides duplicates and the engine inserts, instead of after.
 */

/** A batch of lines, one buffer of their bytes back to back (the ingest's own copy). */
export interface ParseRequest {
  batch: number;
  lines: ArrayBuffer;
  /** Where each line ends in `lines`. */
  ends: Int32Array;
  /** Each line's source offset (file line number). */
  offsets: Float64Array;
  arrivedAt: Float64Array;
  kind: SourceKind;
  name: string;
  partition: number;
  /** Send the parsed events back too (for the live engine), not only their rows. */
  withEvents: boolean;
}

export interface ParseRejection {
  index: number;
  reason: RejectReason;
  detail: string;
  field?: string;
}

/** Per line of the request: its row and fingerprint (empty when rejected), id and force. */
export interface ParseReply {
  batch: number;
  rows: ArrayBuffer;
  rowEnds: Int32Array;
  /** Each fingerprint as a RowBinary String (length, UTF-8). */
  fingerprints: ArrayBuffer;
  fingerprintEnds: Int32Array;
  ids: string[];
  forces: string[];
  rejections: ParseRejection[];
  /** With `withEvents`: each line's event, null where rejected. */
  events?: Array<CallmonEvent | null>;
}

/** A batch parsed on a worker, for the pipeline to decide on. */
export interface ParsedBatch {
  rows: Uint8Array;
  rowEnds: Int32Array;
  fingerprints: Uint8Array;
  fingerprintEnds: Int32Array;
  ids: string[];
  forces: string[];
  rejections: ParseRejection[];
  events?: Array<CallmonEvent | null>;
}

const utf8 = new TextDecoder();

const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf] as const;

/**
 * decode → validate → fingerprint → encode for a batch of lines: each valid line's store
 * row (RowBinary, as `insertEvents` would write it), force, id and fingerprint, and each
 * invalid line's rejection; with the buffers to transfer.
 */
export function parseLines(request: ParseRequest): [ParseReply, ArrayBuffer[]] {
  const lines = Buffer.from(request.lines);
  const { ends, offsets, arrivedAt, withEvents } = request;
  const count = ends.length;
  const rows = new RowBinaryWriter(Math.max(1 << 16, lines.byteLength * 2));
  const fingerprints = new RowBinaryWriter(1 << 16);
  const rowEnds = new Int32Array(count);
  const fingerprintEnds = new Int32Array(count);
  const ids: string[] = [];
  const forces: string[] = [];
  const rejections: ParseRejection[] = [];
  const events: Array<CallmonEvent | null> = [];
  const position = {
    kind: request.kind,
    name: request.name,
    partition: request.partition,
    offset: 0,
  };
  let start = 0;
  for (let index = 0; index < count; index++) {
    const end = ends[index]!;
    const bytes = lines.subarray(start, end);
    start = end;
    const parsed = parseEvent(bytes);
    if (!parsed.ok) {
      const rejection: ParseRejection = {
        index,
        reason: parsed.reason,
        detail: parsed.detail,
      };
      if (parsed.field !== undefined) rejection.field = parsed.field;
      rejections.push(rejection);
      // An empty row and fingerprint mark the line as rejected.
      rowEnds[index] = rows.bytes.length;
      fingerprintEnds[index] = fingerprints.bytes.length;
      ids.push('');
      forces.push('');
      if (withEvents) events.push(null);
      continue;
    }
    const { event } = parsed;
    const fingerprint = eventFingerprint(event);
    position.offset = offsets[index]!;
    const hasMark =
      bytes[0] === BYTE_ORDER_MARK[0] &&
      bytes[1] === BYTE_ORDER_MARK[1] &&
      bytes[2] === BYTE_ORDER_MARK[2];
    encodeEventRow(rows, {
      event,
      fingerprint,
      get raw(): string {
        return new TextDecoder().decode(bytes);
      },
      rawBytes: hasMark ? bytes.subarray(3) : bytes,
      arrivedAt: arrivedAt[index]!,
      position,
    });
    rowEnds[index] = rows.bytes.length;
    fingerprints.string(fingerprint);
    fingerprintEnds[index] = fingerprints.bytes.length;
    ids.push(event.id);
    forces.push(event.force);
    if (withEvents) events.push(event);
  }
  // Copied out of the writers' (larger) buffers, so that only the bytes cross over.
  const rowBytes = new Uint8Array(rows.bytes).buffer;
  const fingerprintBytes = new Uint8Array(fingerprints.bytes).buffer;
  const reply: ParseReply = {
    batch: request.batch,
    rows: rowBytes,
    rowEnds,
    fingerprints: fingerprintBytes,
    fingerprintEnds,
    ids,
    forces,
    rejections,
  };
  if (withEvents) reply.events = events;
  return [reply, [rowBytes, fingerprintBytes, rowEnds.buffer, fingerprintEnds.buffer]];
}

/** The request for a batch of inputs, all of one source (kind and name). */
function requestFor(
  batch: number,
  inputs: readonly RawInput[],
  withEvents: boolean,
): [ParseRequest, ArrayBuffer[]] {
  let size = 0;
  for (const input of inputs) size += input.bytes.byteLength;
  const lines = new Uint8Array(size);
  const ends = new Int32Array(inputs.length);
  const offsets = new Float64Array(inputs.length);
  const arrivedAt = new Float64Array(inputs.length);
  let at = 0;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index]!;
    lines.set(input.bytes, at);
    at += input.bytes.byteLength;
    ends[index] = at;
    offsets[index] = input.position.offset;
    arrivedAt[index] = input.arrivedAt;
  }
  const first = inputs[0]?.position ?? { kind: 'file', name: '', partition: 0 };
  const request: ParseRequest = {
    batch,
    lines: lines.buffer,
    ends,
    offsets,
    arrivedAt,
    kind: first.kind,
    name: first.name,
    partition: first.partition,
    withEvents,
  };
  return [request, [lines.buffer, ends.buffer, offsets.buffer, arrivedAt.buffer]];
}

function parsedFrom(reply: ParseReply): ParsedBatch {
  return {
    rows: new Uint8Array(reply.rows),
    rowEnds: reply.rowEnds,
    fingerprints: new Uint8Array(reply.fingerprints),
    fingerprintEnds: reply.fingerprintEnds,
    ids: reply.ids,
    forces: reply.forces,
    rejections: reply.rejections,
    ...(reply.events === undefined ? {} : { events: reply.events }),
  };
}

/** {@link ParseWorkers}' work done on the calling thread (tests: the same batches, no threads). */
export const parseHere: BatchParser = {
  parse: async (inputs, withEvents) =>
    parsedFrom(parseLines(requestFor(0, inputs, withEvents)[0])[0]),
};

/** The fingerprint of line `index` of a parsed batch, decoded only when asked for. */
export function fingerprintOf(batch: ParsedBatch, index: number): string {
  const bytes = batch.fingerprints;
  let at = index === 0 ? 0 : batch.fingerprintEnds[index - 1]!;
  const end = batch.fingerprintEnds[index]!;
  // Skip the LEB128 length.
  while (bytes[at]! & 0x80) at++;
  return utf8.decode(bytes.subarray(at + 1, end));
}

/**
 * The worker's entry: the CLI runs its TypeScript through tsx (`node --import tsx`), whose
 * loader a worker thread does not inherit, so the worker registers it before loading
 * parse-worker.ts.
 */
function workerBootstrap(): string {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href);
  return `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
}

export class ParseWorkers implements BatchParser {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (batch: ParsedBatch) => void; reject: (error: unknown) => void }
  >();
  private next = 0;
  private failure: unknown;

  constructor(count: number) {
    for (let index = 0; index < count; index++) {
      const worker = new Worker(workerBootstrap(), { eval: true });
      worker.on('message', (reply: ParseReply) => this.settle(reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`parse worker exited with code ${code}`));
      });
      // Kept alive only while a batch is out (see parse()): an idle worker must not keep
      // the process running, e.g. after the consumer it serves failed to start.
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Parse a batch on the next worker in turn; lines must all be of one source kind and name. */
  parse(inputs: readonly RawInput[], withEvents: boolean): Promise<ParsedBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const batch = this.next++;
    const [request, transfer] = requestFor(batch, inputs, withEvents);
    const worker = this.workers[batch % this.workers.length]!;
    if (this.pending.size === 0) for (const each of this.workers) each.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(batch, { resolve, reject });
      worker.postMessage(request, transfer);
    });
  }

  /**
   * Stop the workers. Not waited for: they hold nothing, and an unreferenced worker's
   * exit (see parse()) does not keep the process running until it is reported.
   */
  close(): void {
    for (const worker of this.workers) worker.terminate().catch(() => {});
  }

  private settle(reply: ParseReply): void {
    const waiting = this.pending.get(reply.batch);
    if (waiting === undefined) return;
    this.pending.delete(reply.batch);
    if (this.pending.size === 0) for (const each of this.workers) each.unref();
    waiting.resolve(parsedFrom(reply));
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    for (const worker of this.workers) worker.unref();
  }
}

/**
 * Worker threads to parse on (config `parseWorkers`, CALLMON_PARSE_WORKERS; 0 parses on the
 * pipeline's thread): by default one per CPU, at most two, beside the main thread and the
 * engine's.
 */
export function parseWorkerCount(configured: number | undefined): number {
  return configured ?? Math.min(2, availableParallelism());
}
