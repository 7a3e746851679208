import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type CallmonEvent,
  eventFingerprint,
  PLAIN_FIELD_SLOTS,
  PLAIN_FIELDS,
  parseEvent,
  plainEvent,
  plainEventFrom,
  plainFingerprintLength,
  type RejectReason,
  scanPlainEvent,
} from '@callmon/events';
import {
  encodeEventRow,
  encodePlainEventRow,
  RowBinaryWriter,
  type SourceKind,
} from '@callmon/store/rows';
import type { LineBatch } from './ndjson-source.ts';
import type { BatchParser, LineSource, RawInput } from './pipeline.ts';

/**
 * Worker threads that parse, fingerprint and encode batches of lines for the ingest
 * pipeline (parse-worker.ts). The contract's parser, the fingerprint and the RowBinary
 * encoding are most of the ingest's JavaScript time; on their own threads they run while
 * the pipeline's thread decides duplicates and the engine inserts, instead of after.
 */

/** A batch of lines, one buffer holding them all (the ingest's own copy, handed over). */
export interface ParseRequest {
  batch: number;
  lines: ArrayBuffer;
  /** Where each line starts and ends in `lines`. */
  starts: Int32Array;
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
  /** The request's lines, handed back. */
  lines: ArrayBuffer;
  rows: ArrayBuffer;
  rowEnds: Int32Array;
  /** Where each fingerprint is: see {@link ParsedBatch}. */
  fingerprintStarts: Int32Array;
  fingerprintEnds: Int32Array;
  otherFingerprints: string[];
  ids: string[];
  /** Each line's force, as an index into `forceNames` (a batch is mostly one force). */
  forceOf: Int32Array;
  forceNames: string[];
  rejections: ParseRejection[];
  /** With `withEvents`: each line's event, null where rejected or plain (see `plain`). */
  events?: Array<CallmonEvent | null>;
  /** With `withEvents`: what the scan found of each plain line, to build its event from. */
  plain?: PlainLines;
}

/**
 * The scan's results for the plain lines of a batch (`scanPlainEvent`), from which the
 * pipeline's thread builds their events only when it needs them: numbers cross between
 * threads as they are, where event objects would be copied one by one.
 */
export interface PlainLines {
  /** Per line, `PLAIN_FIELD_SLOTS` numbers: `plainEvent.fields` as the scan left them. */
  fields: Int32Array;
  /** Per line, its type's index in `EVENT_TYPES` plus one; 0 for a line that was not plain. */
  types: Uint8Array;
  times: Float64Array;
  grades: Uint8Array;
}

/** A batch parsed on a worker, for the pipeline to decide on. */
export interface ParsedBatch {
  /** The lines parsed (`starts`/`ends` of the batch index into it). */
  lines: Uint8Array;
  rows: Uint8Array;
  rowEnds: Int32Array;
  /**
   * Where each line's fingerprint is: its bytes in `rows` from `fingerprintStarts` to
   * `fingerprintEnds` (inside the row: a plain line's fingerprint is written only there),
   * or, where the start is negative (a line `parseEvent` parsed), the text
   * `otherFingerprints[-1 - start]`.
   */
  fingerprintStarts: Int32Array;
  fingerprintEnds: Int32Array;
  otherFingerprints: string[];
  ids: string[];
  forceOf: Int32Array;
  forceNames: string[];
  rejections: ParseRejection[];
  events?: Array<CallmonEvent | null>;
  plain?: PlainLines;
}

const utf8 = new TextDecoder();

const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf] as const;

/** Where `plainEvent` holds a line's id and force. */
const PLAIN_ID = PLAIN_FIELDS.indexOf('id');
const PLAIN_FORCE = PLAIN_FIELDS.indexOf('force');

/** One thread's scratch space: the rows of a batch. */
const batchRows = new RowBinaryWriter(1 << 20);

/**
 * decode → validate → fingerprint → encode for a batch of lines: each valid line's store
 * row (RowBinary, as `insertEvents` would write it), force, id and fingerprint, and each
 * invalid line's rejection; with the buffers to transfer. When the events are not wanted
 * back, a plainly valid line (`scanPlainEvent`) goes from its bytes to its row without
 * any JS value in between (and its event, when wanted, is built from the same scan);
 * any other line is parsed by `parseEvent`.
 */
export function parseLines(request: ParseRequest): [ParseReply, ArrayBuffer[]] {
  const lines = Buffer.from(request.lines);
  const { starts, ends, offsets, arrivedAt, withEvents } = request;
  const count = ends.length;
  // Reused batch after batch (what crosses over is copied out at the end).
  const rows = batchRows.reset();
  const rowEnds = new Int32Array(count);
  const fingerprintStarts = new Int32Array(count);
  const fingerprintEnds = new Int32Array(count);
  const otherFingerprints: string[] = [];
  const ids: string[] = [];
  const forceOf = new Int32Array(count);
  const forceNames: string[] = [];
  const rejections: ParseRejection[] = [];
  const events: Array<CallmonEvent | null> = [];
  const plain: PlainLines | undefined = withEvents
    ? {
        fields: new Int32Array(count * PLAIN_FIELD_SLOTS),
        types: new Uint8Array(count),
        times: new Float64Array(count),
        grades: new Uint8Array(count),
      }
    : undefined;
  const position = {
    kind: request.kind,
    name: request.name,
    partition: request.partition,
    offset: 0,
  };
  /** The last line's force (an index in `forceNames`), and its bytes if it was a plain line. */
  let force = -1;
  let forceFrom = -1;
  let forceTo = -1;
  const named = (name: string): number => {
    if (force < 0 || forceNames[force] !== name) {
      force = forceNames.indexOf(name);
      if (force < 0) force = forceNames.push(name) - 1;
    }
    return force;
  };
  for (let index = 0; index < count; index++) {
    const lineStart = starts[index]!;
    const end = ends[index]!;
    position.offset = offsets[index]!;
    if (scanPlainEvent(lines, lineStart, end)) {
      const fingerprintLength = plainFingerprintLength();
      const fingerprint = encodePlainEventRow(
        rows,
        lines,
        lineStart,
        end,
        fingerprintLength,
        arrivedAt[index]!,
        position,
      );
      rowEnds[index] = rows.length;
      fingerprintStarts[index] = fingerprint;
      fingerprintEnds[index] = fingerprint + fingerprintLength;
      // Plain lines are ASCII, so latin1 is their UTF-8.
      ids.push(lines.toString('latin1', plainEvent.starts[PLAIN_ID], plainEvent.ends[PLAIN_ID]));
      if (plain !== undefined) {
        plain.fields.set(plainEvent.fields, index * PLAIN_FIELD_SLOTS);
        plain.types[index] = plainEvent.type + 1;
        plain.times[index] = plainEvent.at;
        plain.grades[index] = plainEvent.grade;
        events.push(null);
      }
      const from = plainEvent.starts[PLAIN_FORCE]!;
      const to = plainEvent.ends[PLAIN_FORCE]!;
      if (forceFrom < 0 || !sameBytes(lines, from, to, forceFrom, forceTo)) {
        named(lines.toString('latin1', from, to));
        forceFrom = from;
        forceTo = to;
      }
      forceOf[index] = force;
      continue;
    }
    const bytes = lines.subarray(lineStart, end);
    const parsed = parseEvent(bytes);
    if (!parsed.ok) {
      const rejection: ParseRejection = {
        index,
        reason: parsed.reason,
        detail: parsed.detail,
      };
      if (parsed.field !== undefined) rejection.field = parsed.field;
      rejections.push(rejection);
      // An empty row marks the line as rejected.
      rowEnds[index] = rows.length;
      ids.push('');
      forceOf[index] = -1;
      if (withEvents) events.push(null);
      continue;
    }
    const { event } = parsed;
    const fingerprint = eventFingerprint(event);
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
    rowEnds[index] = rows.length;
    fingerprintStarts[index] = -1 - otherFingerprints.length;
    otherFingerprints.push(fingerprint);
    ids.push(event.id);
    forceOf[index] = named(event.force);
    forceFrom = -1;
    if (withEvents) events.push(event);
  }
  // Copied out of the writers' (larger) buffers, so that only the bytes cross over.
  const rowBytes = new Uint8Array(rows.bytes).buffer;
  const reply: ParseReply = {
    batch: request.batch,
    lines: request.lines,
    rows: rowBytes,
    rowEnds,
    fingerprintStarts,
    fingerprintEnds,
    otherFingerprints,
    ids,
    forceOf,
    forceNames,
    rejections,
  };
  if (withEvents) {
    reply.events = events;
    reply.plain = plain!;
  }
  return [
    reply,
    [
      request.lines,
      rowBytes,
      rowEnds.buffer,
      fingerprintStarts.buffer,
      fingerprintEnds.buffer,
      forceOf.buffer,
      ...(plain === undefined
        ? []
        : [plain.fields, plain.types, plain.times, plain.grades].map(
            (array) => array.buffer as ArrayBuffer,
          )),
    ],
  ];
}

/** Whether `bytes[a, aEnd)` and `bytes[b, bEnd)` are the same bytes. */
function sameBytes(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let index = 0; index < aEnd - a; index++) {
    if (bytes[a + index] !== bytes[b + index]) return false;
  }
  return true;
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
  const starts = new Int32Array(inputs.length);
  const ends = new Int32Array(inputs.length);
  const offsets = new Float64Array(inputs.length);
  const arrivedAt = new Float64Array(inputs.length);
  let at = 0;
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index]!;
    lines.set(input.bytes, at);
    starts[index] = at;
    at += input.bytes.byteLength;
    ends[index] = at;
    offsets[index] = input.position.offset;
    arrivedAt[index] = input.arrivedAt;
  }
  const first = inputs[0]?.position ?? { kind: 'file', name: '', partition: 0 };
  const request: ParseRequest = {
    batch,
    lines: lines.buffer,
    starts,
    ends,
    offsets,
    arrivedAt,
    kind: first.kind,
    name: first.name,
    partition: first.partition,
    withEvents,
  };
  return [request, transferOf(request)];
}

/**
 * The request for a {@link LineBatch}: its buffer is handed over as it is (copied first if
 * `bytes` is a view on part of one), and comes back with the reply.
 */
function requestForLines(
  batch: number,
  lines: LineBatch,
  source: LineSource,
  withEvents: boolean,
): [ParseRequest, ArrayBuffer[]] {
  const { bytes } = lines;
  // Positions are relative to `bytes`, and its memory is handed over: a view on a larger
  // buffer (such as Node's shared pool of small Buffers, which must never be transferred)
  // is copied into a buffer of its own first.
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const request: ParseRequest = {
    batch,
    lines: (own ? bytes : new Uint8Array(bytes)).buffer as ArrayBuffer,
    starts: lines.starts,
    ends: lines.ends,
    offsets: lines.numbers,
    arrivedAt: new Float64Array(lines.starts.length).fill(source.arrivedAt),
    kind: source.kind,
    name: source.name,
    partition: source.partition,
    withEvents,
  };
  // The line positions stay usable here (copied, small); the bytes come back with the reply.
  return [request, [request.lines, request.arrivedAt.buffer as ArrayBuffer]];
}

function transferOf(request: ParseRequest): ArrayBuffer[] {
  return [
    request.lines,
    request.starts.buffer as ArrayBuffer,
    request.ends.buffer as ArrayBuffer,
    request.offsets.buffer as ArrayBuffer,
    request.arrivedAt.buffer as ArrayBuffer,
  ];
}

function parsedFrom(reply: ParseReply): ParsedBatch {
  return {
    lines: new Uint8Array(reply.lines),
    rows: new Uint8Array(reply.rows),
    rowEnds: reply.rowEnds,
    fingerprintStarts: reply.fingerprintStarts,
    fingerprintEnds: reply.fingerprintEnds,
    otherFingerprints: reply.otherFingerprints,
    ids: reply.ids,
    forceOf: reply.forceOf,
    forceNames: reply.forceNames,
    rejections: reply.rejections,
    ...(reply.events === undefined ? {} : { events: reply.events }),
    ...(reply.plain === undefined ? {} : { plain: reply.plain }),
  };
}

/** {@link ParseWorkers}' work done on the calling thread (tests: the same batches, no threads). */
export const parseHere: BatchParser = {
  parse: async (inputs, withEvents) =>
    parsedFrom(parseLines(requestFor(0, inputs, withEvents)[0])[0]),
  parseLines: async (lines, source, withEvents) =>
    parsedFrom(parseLines(requestForLines(0, lines, source, withEvents)[0])[0]),
};

/**
 * The event of line `index` of a batch parsed with its events (null where rejected): a
 * plain line's is built here, from the scan's results, when first asked for.
 */
export function eventOf(batch: ParsedBatch, index: number, id: string): CallmonEvent | null {
  const event = batch.events?.[index];
  if (event != null) return event;
  const plain = batch.plain;
  const type = plain?.types[index] ?? 0;
  if (type === 0) return null;
  return plainEventFrom(
    batch.lines,
    plain!.fields,
    index * PLAIN_FIELD_SLOTS,
    type - 1,
    plain!.times[index]!,
    plain!.grades[index]!,
    id,
  );
}

/**
 * The time (UTC ms) of line `index`'s event, for a batch parsed with its events, without
 * building a plain line's event. Throws for a rejected line, as {@link eventOf} gives it none.
 */
export function eventTimeOf(batch: ParsedBatch, index: number): number {
  if ((batch.plain?.types[index] ?? 0) > 0) return batch.plain!.times[index]!;
  const event = batch.events?.[index];
  if (event == null) throw new Error('this batch was parsed without its events');
  return event.at;
}

/** The fingerprint of line `index` of a parsed batch, decoded only when asked for. */
export function fingerprintOf(batch: ParsedBatch, index: number): string {
  const start = batch.fingerprintStarts[index]!;
  if (start < 0) return batch.otherFingerprints[-1 - start]!;
  return utf8.decode(batch.rows.subarray(start, batch.fingerprintEnds[index]!));
}

/**
 * The worker's code. The CLI runs its TypeScript through tsx (`node --import tsx`), whose
 * loader a worker thread does not inherit: registered again in each worker, it costs a
 * loader thread and every module resolved through it. So the worker's modules are bundled
 * once per process into one ES module by esbuild (which tsx itself runs on), ≈ 0.15 s;
 * two workers are then ready in 0.55 s instead of 0.89 s, with 1 CPU-s less
 * (bench/parse-workers-start.bench.ts). Where bundling fails, each worker registers tsx
 * and loads parse-worker.ts as it is.
 */
let workerEntry: Promise<URL | string> | undefined;

/**
 * The worker's module in the CLI's cached bundle, when the CLI was started through its
 * launcher (services/cli/launcher.mjs sets it): the workers load that, with no bundling.
 */
const PREBUILT_WORKER = Symbol.for('callmon.parseWorkerModule');

function workerSource(entry: WorkerEntry): Promise<URL | string> {
  if (entry === 'tsx') return Promise.resolve(tsxBootstrap());
  const prebuilt = (globalThis as Record<symbol, unknown>)[PREBUILT_WORKER];
  if (typeof prebuilt === 'string') return Promise.resolve(new URL(prebuilt));
  workerEntry ??= bundleWorker().catch(() => tsxBootstrap());
  return workerEntry;
}

/** How a worker loads its code: bundled (the default), or through tsx as it is. */
export type WorkerEntry = 'bundle' | 'tsx';

async function bundleWorker(): Promise<URL> {
  const { build } = await import('esbuild');
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('./parse-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.from(bundled.outputFiles[0]!.contents).toString('base64');
  return new URL(`data:text/javascript;base64,${code}`);
}

/** Code for an `eval` worker that registers tsx, then loads parse-worker.ts. */
function tsxBootstrap(): string {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./parse-worker.ts', import.meta.url).href);
  return `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); });`;
}

export class ParseWorkers implements BatchParser {
  /** How the workers loaded their code: 'tsx' where bundling failed (slower to start). */
  readonly entry: Promise<WorkerEntry>;
  private readonly workers: Promise<Worker[]>;
  private readonly pending = new Map<
    number,
    { resolve: (batch: ParsedBatch) => void; reject: (error: unknown) => void }
  >();
  private next = 0;
  private failure: unknown;
  private closed = false;

  /** Starts `count` workers (batches sent meanwhile wait for them). */
  constructor(
    readonly count: number,
    options: { entry?: WorkerEntry } = {},
  ) {
    const source = workerSource(options.entry ?? 'bundle');
    this.entry = source.then((code) => (typeof code === 'string' ? 'tsx' : 'bundle'));
    this.workers = source.then((code) => {
      const workers: Worker[] = [];
      for (let index = 0; index < count; index++) {
        const worker =
          typeof code === 'string' ? new Worker(code, { eval: true }) : new Worker(code);
        worker.on('message', (reply: ParseReply) => this.settle(reply));
        worker.on('error', (error) => this.fail(error));
        worker.on('exit', (code) => {
          if (code !== 0) this.fail(new Error(`parse worker exited with code ${code}`));
        });
        // Kept alive only while a batch is out (see parse()): an idle worker must not keep
        // the process running, e.g. after the consumer it serves failed to start.
        if (this.pending.size === 0) worker.unref();
        if (this.closed) worker.terminate().catch(() => {});
        workers.push(worker);
      }
      return workers;
    });
    this.workers.catch((error: unknown) => this.fail(error));
  }

  /** Parse a batch on the next worker in turn; lines must all be of one source kind and name. */
  parse(inputs: readonly RawInput[], withEvents: boolean): Promise<ParsedBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.send(requestFor(this.next++, inputs, withEvents));
  }

  /** {@link parse} for a batch read as one buffer; the buffer is the worker's until it is back. */
  parseLines(lines: LineBatch, source: LineSource, withEvents: boolean): Promise<ParsedBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.send(requestForLines(this.next++, lines, source, withEvents));
  }

  private send([request, transfer]: [ParseRequest, ArrayBuffer[]]): Promise<ParsedBatch> {
    const batch = request.batch;
    return new Promise((resolve, reject) => {
      this.pending.set(batch, { resolve, reject });
      if (this.pending.size === 1) this.matchWorkerRefs();
      this.workers.then(
        (workers) => {
          // Failed while the workers started: the batch was rejected with the rest.
          if (!this.pending.has(batch)) return;
          workers[batch % workers.length]!.postMessage(request, transfer);
        },
        () => {},
      );
    });
  }

  /** The workers keep the process running while a batch is out, and only then. */
  private matchWorkerRefs(): void {
    this.workers.then(
      (workers) => {
        for (const worker of workers) {
          if (this.pending.size > 0) worker.ref();
          else worker.unref();
        }
      },
      () => {},
    );
  }

  /**
   * Stop the workers. Not waited for: they hold nothing, and an unreferenced worker's
   * exit (see parse()) does not keep the process running until it is reported.
   */
  close(): void {
    this.closed = true;
    this.workers.then(
      (workers) => {
        for (const worker of workers) worker.terminate().catch(() => {});
      },
      () => {},
    );
  }

  private settle(reply: ParseReply): void {
    const waiting = this.pending.get(reply.batch);
    if (waiting === undefined) return;
    this.pending.delete(reply.batch);
    if (this.pending.size === 0) this.matchWorkerRefs();
    waiting.resolve(parsedFrom(reply));
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
    this.matchWorkerRefs();
  }
}

/**
 * Worker threads to parse on (config `parseWorkers`, CALLMON_PARSE_WORKERS; 0 parses on the
 * pipeline's thread). By default, for a file, one per CPU, at most two: the pipeline's
 * thread only reads, decides and writes. For Kafka, one where there are two CPUs or
 * more: the consumer's thread also decodes the fetches and runs the live engine. On 2
 * CPUs one worker was ≈ 6–7 % faster than none in medians (13 of 13 CLI pairs, 8 of 10
 * bench pairs) and faster than two in 2 of 3 (BENCHMARKS.md, Kafka → store).
 */
export function parseWorkerCount(
  configured: number | undefined,
  source: 'file' | 'kafka' = 'file',
): number {
  if (configured !== undefined) return configured;
  const cpus = availableParallelism();
  return source === 'file' ? Math.min(2, cpus) : Math.min(1, cpus - 1);
}

/**
 * The parse workers an ingest starts: none unless its store is embedded (they encode rows
 * for the embedded store's batch files), else {@link parseWorkerCount} of them; undefined
 * for none (the pipeline's thread parses). Callers start them early, while the store
 * opens, since each takes a few hundred milliseconds to be ready.
 */
export function startParseWorkers(
  embedded: boolean,
  configured: number | undefined,
  source: 'file' | 'kafka',
): ParseWorkers | undefined {
  const count = embedded ? parseWorkerCount(configured, source) : 0;
  return count > 0 ? new ParseWorkers(count) : undefined;
}
