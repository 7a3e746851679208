import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { openTestStore } from '@callmon/store/testing';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type LineBatch, readNdjsonBatches } from './ndjson-source.ts';
import { parseHere } from './parse-workers.ts';
import {
  type BatchParser,
  batchToken,
  IngestPipeline,
  type LineSource,
  lineBatchToken,
  type RawInput,
} from './pipeline.ts';

const log = pino({ level: 'silent' });
const clock = { now: () => Date.parse('2024-02-20T00:00:00Z') };
const latin1 = new TextDecoder('latin1');

/** A file with every kind of line ending and blank line the reader must handle. */
const TEXT = [
  '{"a":1}',
  '',
  '   ',
  '{"b":2}\r',
  '\t\r',
  '{"c":3}',
  '{"d":4}',
  ' {"e":5} ',
  '{"f":6}\r',
  '',
  '{"g":7}',
].join('\n');

/** What the reader must yield, worked out independently: (line number, text) of each non-blank line. */
function expectedLines(text: string): Array<[number, string]> {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines
    .map((line, index): [number, string] => [index + 1, line.replace(/\r$/, '')])
    .filter(([, line]) => /[^ \t\r]/.test(line));
}

async function readAll(text: string, chunkSize: number, maxLines: number): Promise<LineBatch[]> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) {
    chunks.push(Buffer.from(bytes.subarray(at, at + chunkSize)));
  }
  const batches: LineBatch[] = [];
  for await (const batch of readNdjsonBatches(Readable.from(chunks), maxLines)) {
    batches.push(batch);
  }
  return batches;
}

function linesOf(batch: LineBatch): Array<[number, string]> {
  return [...batch.starts].map((start, index) => [
    batch.numbers[index]!,
    latin1.decode(batch.bytes.subarray(start, batch.ends[index]!)),
  ]);
}

describe('readNdjsonBatches', () => {
  for (const text of [TEXT, `${TEXT}\n`, `${TEXT}\r\n\n`, '\n\n', '']) {
    it(`yields every non-blank line once, in batches cut by count alone (${JSON.stringify(text.slice(-4))})`, async () => {
      const expected = expectedLines(text);
      for (const chunkSize of [1, 2, 3, 7, 16, 1 << 20]) {
        for (const maxLines of [1, 2, 3, 100]) {
          const batches = await readAll(text, chunkSize, maxLines);
          expect(batches.flatMap(linesOf)).toEqual(expected);
          // Every batch full but the last: the same file always makes the same batches.
          const sizes = batches.map((batch) => batch.starts.length);
          for (const size of sizes.slice(0, -1)) expect(size).toBe(maxLines);
          // Progress: the bytes read so far, never more than the file.
          const read = batches.map((batch) => batch.bytesRead);
          expect(read).toEqual([...read].sort((x, y) => x - y));
          for (const bytes of read) expect(bytes).toBeLessThanOrEqual(Buffer.byteLength(text));
          // Each batch owns its bytes (so they can be handed to a worker thread).
          for (const batch of batches) {
            expect(batch.bytes.byteOffset).toBe(0);
            expect(batch.bytes.buffer.byteLength).toBe(batch.bytes.byteLength);
          }
        }
      }
    });
  }

  it('holds batches of more lines than its arrays start with, every position exact', async () => {
    // 70,000 lines: past the 65,536 a batch's arrays hold before they grow.
    const lines = Array.from({ length: 70_000 }, (_, index) => `{"n":${index}}`);
    const text = `${lines.join('\n')}\n`;
    const expected = lines.map((line, index): [number, string] => [index + 1, line]);
    for (const maxLines of [100_000, 69_999]) {
      const batches = await readAll(text, 1 << 16, maxLines);
      expect(batches.map((batch) => batch.starts.length)).toEqual(
        maxLines === 100_000 ? [70_000] : [69_999, 1],
      );
      expect(batches.flatMap(linesOf)).toEqual(expected);
    }
  });

  it('gives a batch the token its lines get one input at a time', async () => {
    const source = { kind: 'file' as const, name: 'f.ndjson', partition: 0, arrivedAt: 0 };
    for (const maxLines of [1, 3, 100]) {
      for (const batch of await readAll(TEXT, 5, maxLines)) {
        const inputs: RawInput[] = linesOf(batch).map(([number, text]) => ({
          bytes: Buffer.from(text, 'latin1'),
          position: { kind: 'file', name: 'f.ndjson', partition: 0, offset: number },
          arrivedAt: 0,
        }));
        expect(lineBatchToken(batch, source)).toBe(batchToken(inputs));
        // Worked out independently: source, line numbers, and a digest of each line and a newline.
        const lines = linesOf(batch);
        const digest = createHash('sha256')
          .update(lines.map(([, text]) => `${text}\n`).join(''), 'latin1')
          .digest('hex')
          .slice(0, 16);
        expect(lineBatchToken(batch, source)).toBe(
          `file:f.ndjson:0:${lines[0]![0]}-${lines.at(-1)![0]}:${digest}`,
        );
      }
    }
  });
});

const event = (fields: Record<string, unknown>) =>
  JSON.stringify({ v: 1, force: 'northants', at: '2024-02-19T21:04:05.123Z', ...fields });

/** Accepted, duplicate, conflict, rejected and blank lines, some with `\r`. */
const FILE = [
  event({ id: 'p1', type: 'call.presented', call: 'c1', channel: '999' }),
  '',
  `${event({ id: 'a1', type: 'call.answered', call: 'c1' })}\r`,
  event({ id: 'a1', type: 'call.answered', call: 'c1' }),
  event({ id: 'a1', type: 'call.answered', call: 'c1', handler: 'h1' }),
  '{"v":1,',
  '  ',
  event({ id: 'x1', type: 'call.abandoned' }),
  event({ id: 'é1', type: 'call.closed', call: 'c1' }),
  event({ id: 'p1', type: 'call.presented', call: 'c1', channel: '999', force: 'kent' }),
].join('\n');

describe.each([
  ['parsed as inputs arrive', undefined],
  ['parsed elsewhere into encoded rows', parseHere],
])('IngestPipeline.addLines, %s', (_mode, parser: BatchParser | undefined) => {
  it('stores exactly what the same lines offered one at a time store', async () => {
    const source: LineSource = { kind: 'file', name: 'f.ndjson', partition: 0, arrivedAt: 0 };
    const options = { log, clock, batchRows: 3, ...(parser === undefined ? {} : { parser }) };
    // chDB holds one store per process: one way, then the other, each on a fresh store.
    const outcome = async (feed: (pipeline: IngestPipeline) => Promise<void>) => {
      const test = await openTestStore();
      try {
        const pipeline = new IngestPipeline({ ...options, store: test.store });
        await feed(pipeline);
        await pipeline.flush();
        const stored = [];
        for (const force of ['northants', 'kent']) {
          stored.push(await test.store.readEvents({ force }));
          stored.push(await test.store.eventsOfCall(force, 'c1'));
        }
        const rejected = (await test.store.listRejected({ limit: 100 })).map(
          ({ raw, reason, position, batch }) => [raw, reason, position, batch],
        );
        return { counts: pipeline.counts, stored, rejected };
      } finally {
        await test.cleanup();
      }
    };
    const batched = await outcome(async (pipeline) => {
      for (const batch of await readAll(FILE, 11, 3)) {
        await pipeline.addLines(batch, { ...source, arrivedAt: clock.now() });
      }
    });
    const single = await outcome(async (pipeline) => {
      for (const [number, text] of expectedLines(FILE)) {
        await pipeline.offer({
          bytes: Buffer.from(text),
          position: { kind: 'file', name: 'f.ndjson', partition: 0, offset: number },
          arrivedAt: clock.now(),
        });
      }
    });
    expect(batched.counts).toEqual({
      accepted: 4,
      duplicates: 1,
      conflicts: 1,
      rejected: 2,
      rejectedByReason: { invalid_json: 1, missing_field: 1 },
    });
    expect(batched).toEqual(single);
  });
});
