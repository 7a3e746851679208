import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

export interface SourceLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line's bytes without the newline (and without a trailing `\r`). */
  bytes: Buffer;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * NDJSON lines as raw bytes, so that the contract's parser sees invalid UTF-8 as such
 * (readline would quietly replace it). Blank lines are yielded too; callers skip them.
 */
export async function* readNdjsonLines(input: Readable): AsyncGenerator<SourceLine> {
  for await (const lines of readNdjsonLineChunks(input)) yield* lines;
}

/**
 * {@link readNdjsonLines} a read at a time: the lines completed by each chunk read, so
 * that a caller handles a megabyte of lines without a promise per line.
 */
export async function* readNdjsonLineChunks(input: Readable): AsyncGenerator<SourceLine[]> {
  let pending: Buffer | undefined;
  let line = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const lines: SourceLine[] = [];
    let start = 0;
    let newline = chunk.indexOf(NEWLINE, start);
    while (newline !== -1) {
      let piece = chunk.subarray(start, newline);
      if (pending !== undefined) {
        piece = Buffer.concat([pending, piece]);
        pending = undefined;
      }
      line++;
      lines.push({
        line,
        bytes: piece.length > 0 && piece[piece.length - 1] === CR ? piece.subarray(0, -1) : piece,
      });
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending = pending === undefined ? Buffer.from(rest) : Buffer.concat([pending, rest]);
    }
    if (lines.length > 0) yield lines;
  }
  if (pending !== undefined && pending.length > 0) {
    line++;
    yield [{ line, bytes: pending[pending.length - 1] === CR ? pending.subarray(0, -1) : pending }];
  }
}

/**
 * A batch of NDJSON lines as one buffer and their positions in it: how a file backfill
 * hands lines to the pipeline, without an object per line.
 */
export interface LineBatch {
  /** The bytes the lines lie in (the batch's own copy, which may be handed to a worker). */
  bytes: Uint8Array;
  /** Each non-blank line's start and end in `bytes` (without its newline or a trailing `\r`). */
  starts: Int32Array;
  ends: Int32Array;
  /** Each line's 1-based number in the file. */
  numbers: Float64Array;
  /** Bytes of the input read up to the end of this batch, and lines (blank ones included). */
  bytesRead: number;
  linesRead: number;
}

/**
 * The non-blank lines of an NDJSON input, `maxLines` to a batch (the last may hold fewer).
 * Batches are cut by line count only, so the same input always makes the same batches.
 */
export async function* readNdjsonBatches(
  input: Readable,
  maxLines: number,
): AsyncGenerator<LineBatch> {
  /** The bytes of the batch being filled, from its first line on (the last part may go past it). */
  let parts: Buffer[] = [];
  let regionLength = 0;
  // Typed arrays filled in place (a batch's 50,000 lines pushed onto plain arrays grew
  // them a dozen times and then were copied into typed ones: ≈ 70 bytes a line of garbage).
  let capacity = Math.max(1, Math.min(maxLines, INITIAL_CAPACITY));
  let starts = new Int32Array(capacity);
  let ends = new Int32Array(capacity);
  let numbers = new Float64Array(capacity);
  let count = 0;
  /** Where the line being read starts, in the region. */
  let lineStart = 0;
  let lineNumber = 0;
  let bytesRead = 0;

  const take = (regionEnd: number): LineBatch => {
    const bytes = new Uint8Array(regionEnd);
    let at = 0;
    for (const part of parts) {
      const size = Math.min(part.length, regionEnd - at);
      bytes.set(size === part.length ? part : part.subarray(0, size), at);
      at += size;
      if (at === regionEnd) break;
    }
    const batch: LineBatch = {
      bytes,
      starts: starts.slice(0, count),
      ends: ends.slice(0, count),
      numbers: numbers.slice(0, count),
      bytesRead,
      linesRead: lineNumber,
    };
    count = 0;
    return batch;
  };
  /** The region's bytes `[start, end)`, from the parts they lie in (a line across reads). */
  const joined = (start: number, end: number): Buffer => {
    let index = parts.length;
    let offset = regionLength;
    while (offset > start) offset -= parts[--index]!.length;
    return Buffer.concat(parts.slice(index)).subarray(start - offset, end - offset);
  };
  /** Record the line `[start, end)` of the region if it is not blank; `line` holds it from `from`. */
  const addLine = (line: Uint8Array, from: number, to: number, start: number): void => {
    let size = to - from;
    if (size > 0 && line[to - 1] === CR) size--;
    if (isBlankRange(line, from, from + size)) return;
    if (count === capacity) {
      capacity *= 2;
      starts = grown(starts, new Int32Array(capacity));
      ends = grown(ends, new Int32Array(capacity));
      numbers = grown(numbers, new Float64Array(capacity));
    }
    starts[count] = start;
    ends[count] = start + size;
    numbers[count] = lineNumber;
    count++;
  };

  for await (const chunk of input as AsyncIterable<Buffer>) {
    bytesRead += chunk.length;
    /** Where `chunk[0]` lies in the region (negative once the region starts inside it). */
    let chunkBase = regionLength;
    parts.push(chunk);
    regionLength += chunk.length;
    let newline = chunk.indexOf(NEWLINE);
    while (newline !== -1) {
      lineNumber++;
      const start = lineStart;
      const end = chunkBase + newline;
      if (start >= chunkBase) {
        addLine(chunk, start - chunkBase, newline, start);
      } else {
        // The line began in an earlier read (once per read at most).
        const line = joined(start, end);
        addLine(line, 0, line.length, start);
      }
      lineStart = end + 1;
      if (count === maxLines) {
        yield take(ends[count - 1]!);
        const rest = chunk.subarray(newline + 1);
        parts = [rest];
        regionLength = rest.length;
        chunkBase = -(newline + 1);
        lineStart = 0;
      }
      newline = chunk.indexOf(NEWLINE, newline + 1);
    }
  }
  if (lineStart < regionLength) {
    // A last line without a newline.
    lineNumber++;
    const line = joined(lineStart, regionLength);
    addLine(line, 0, line.length, lineStart);
  }
  if (count > 0) yield take(ends[count - 1]!);
}

/** Lines a batch's arrays hold at first; doubled when a batch holds more. */
const INITIAL_CAPACITY = 1 << 16;

function grown<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function isBlankRange(bytes: Uint8Array, from: number, to: number): boolean {
  for (let index = from; index < to; index++) {
    const byte = bytes[index];
    if (byte !== 0x20 && byte !== 0x09 && byte !== CR) return false;
  }
  return true;
}

/**
 * Open `path` for reading, or standard input for `-` — which the CLI may have moved to
 * another descriptor (`CALLMON_STDIN_FD`) to keep it away from chDB.
 */
export function openNdjson(path: string): Readable {
  if (path !== '-') return createReadStream(path, { highWaterMark: 1 << 20 });
  const movedFd = process.env.CALLMON_STDIN_FD;
  return movedFd === undefined
    ? process.stdin
    : createReadStream('', { fd: Number(movedFd), highWaterMark: 1 << 20 });
}

/** Whether a line holds nothing but white space (skipped, not counted). */
export function isBlank(bytes: Uint8Array): boolean {
  return isBlankRange(bytes, 0, bytes.length);
}
