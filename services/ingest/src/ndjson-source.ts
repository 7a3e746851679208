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
export function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== CR) return false;
  }
  return true;
}
