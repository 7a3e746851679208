import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventFingerprint, parseEvent } from '@callmon/events';
import type { Store } from '@callmon/store';
import { openRawClient, openTestStore, type TestStore } from '@callmon/store/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineBatch } from './ndjson-source.ts';
import { ParseWorkers, parseHere } from './parse-workers.ts';
import {
  type BatchParser,
  IngestPipeline,
  type PipelineOptions,
  type RawInput,
} from './pipeline.ts';
import { FileWriteJournal } from './write-journal.ts';

const log = pino({ level: 'silent' });
const clock = { now: () => Date.parse('2024-02-20T00:00:00Z') };
const line = (event: Record<string, unknown>) =>
  JSON.stringify({ v: 1, force: 'northants', ...event });

/** A file of every kind of line, with what each must come to (worked by hand). */
const LINES: string[] = [
  line({
    id: 'c1-p',
    type: 'call.presented',
    at: '2024-02-19T21:04:05.123Z',
    call: 'c1',
    channel: '999',
  }), // accepted
  line({ id: 'c1-a', type: 'call.answered', at: '2024-02-19T21:04:13.900Z', call: 'c1' }), // accepted
  line({ id: 'c1-a', type: 'call.answered', at: '2024-02-19T21:04:13.900Z', call: 'c1' }), // duplicate
  line({
    id: 'c1-a',
    type: 'call.answered',
    at: '2024-02-19T22:04:13.900+01:00',
    call: 'c1',
    x: 1,
  }), // duplicate: same content
  line({ id: 'c1-a', type: 'call.answered', at: '2024-02-19T21:04:14Z', call: 'c1' }), // conflict
  '{"v":1,"id":"bad"', // invalid_json
  '[1,2,3]', // not_an_object
  line({ v: 2, id: 'v2', type: 'call.presented' }), // unsupported_version
  line({ id: 'u1', type: 'call.teleported', at: '2024-02-19T21:00:00Z' }), // unknown_type
  line({ id: 'm1', type: 'call.answered', at: '2024-02-19T21:00:00Z' }), // missing_field call
  line({ id: 'z1', type: 'call.closed', at: '2024-02-19T21:00:00', call: 'c1' }), // invalid_field at (no zone)
  line({
    id: 'c2-p',
    type: 'call.presented',
    at: '2024-02-18T09:00:00Z',
    call: 'c2',
    channel: '101',
  }), // accepted (late)
  JSON.stringify({
    v: 1,
    force: 'kent',
    id: 'c1-a',
    type: 'call.answered',
    at: '2024-02-19T21:00:00Z',
    call: 'c1',
  }), // accepted: other force, same id
];

function inputs(lines: string[], name: string): RawInput[] {
  return lines.map((text, index) => ({
    bytes: Buffer.from(text),
    position: { kind: 'file' as const, name, partition: 0, offset: index + 1 },
    arrivedAt: clock.now(),
  }));
}

/** A pipeline on `store`, parsing with `parser` (or on its own thread), and any other options. */
function pipelineOn(
  store: Store,
  batchRows: number,
  parser: BatchParser | undefined,
  more: Partial<PipelineOptions> = {},
): IngestPipeline {
  return new IngestPipeline({
    store,
    log,
    clock,
    batchRows,
    ...(parser === undefined ? {} : { parser }),
    ...more,
  });
}

async function ingest(test: TestStore, lines: RawInput[], batchRows: number, parser?: BatchParser) {
  const pipeline = pipelineOn(test.store, batchRows, parser);
  for (const input of lines) await pipeline.offer(input);
  await pipeline.flush();
  return pipeline.counts;
}

/** Lines back to back in one buffer, one newline apart, as a Kafka chunk hands them over. */
function lineBatch(lines: string[], firstOffset: number): LineBatch {
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const starts = new Int32Array(lines.length);
  const ends = new Int32Array(lines.length);
  let at = 0;
  lines.forEach((text, index) => {
    starts[index] = at;
    at += Buffer.byteLength(text);
    ends[index] = at;
    at++;
  });
  const numbers = Float64Array.from(lines, (_text, index) => firstOffset + index);
  return { bytes, starts, ends, numbers, bytesRead: bytes.length, linesRead: lines.length };
}

let dropped = 0;
const onWorker = new ParseWorkers(1);
// The same worker code loaded through tsx, module by module, instead of bundled.
const onTsxWorker = new ParseWorkers(1, { entry: 'tsx' });
afterAll(() => {
  onWorker.close();
  onTsxWorker.close();
});

it('starts parse workers from one bundled module unless asked to load through tsx', async () => {
  expect(await onWorker.entry).toBe('bundle');
  expect(await onTsxWorker.entry).toBe('tsx');
});

// Parsed on the pipeline's thread (server mode), or as encoded rows: on this thread (Kafka
// by default) or on a worker thread (a file ingest): the same outcome.
describe.each([
  ['parsed as inputs arrive', undefined],
  ['parsed elsewhere into encoded rows', parseHere],
  ['parsed on a worker thread', onWorker],
  ['parsed on a worker thread that loads its modules through tsx', onTsxWorker],
])('ingest pipeline, %s', (_mode, parser) => {
  let test: TestStore;
  beforeAll(async () => {
    test = await openTestStore();
  });
  afterAll(async () => {
    await test?.cleanup();
  });

  it('accounts for every line exactly and stores each rejection with its reason', async () => {
    const junk: RawInput = {
      bytes: Buffer.from([0xff, 0xfe]),
      position: { kind: 'file', name: 'mixed.ndjson', partition: 0, offset: LINES.length + 1 },
      arrivedAt: clock.now(),
    };
    const bytes = [...inputs(LINES, 'mixed.ndjson'), junk];
    const counts = await ingest(test, bytes, 4, parser);
    expect(counts).toEqual({
      accepted: 4,
      duplicates: 2,
      conflicts: 1,
      rejected: 7,
      rejectedByReason: {
        invalid_json: 1,
        not_an_object: 1,
        unsupported_version: 1,
        unknown_type: 1,
        missing_field: 1,
        invalid_field: 1,
        invalid_encoding: 1,
      },
    });
    expect(await test.store.countEvents({ force: 'northants' })).toBe(3);
    expect(await test.store.countEvents({ force: 'kent' })).toBe(1);
    const byReason = Object.fromEntries(await test.store.countRejected());
    expect(byReason).toMatchObject({
      duplicate: 2,
      conflict: 1,
      invalid_json: 1,
      not_an_object: 1,
      unsupported_version: 1,
      unknown_type: 1,
      missing_field: 1,
      invalid_field: 1,
      invalid_encoding: 1,
    });
    // An accepted row holds the line as received, where it came from and its fingerprint.
    const answered = (await test.store.eventsOfCall('northants', 'c1')).filter(
      (copy) => copy.event.id === 'c1-a',
    );
    expect(answered.map((copy) => [copy.counted, copy.position.offset, copy.raw])).toEqual([
      [true, 2, LINES[1]],
    ]);
    expect(answered[0]!.fingerprint).toBe(eventFingerprint(answered[0]!.event));
    expect(answered[0]!.arrivedAt).toBe(clock.now());
    const [stored] = await test.store.listRejected({ reason: 'invalid_encoding', limit: 10 });
    expect([...stored!.raw]).toEqual([0xff, 0xfe]);
    expect(stored!.position.offset).toBe(LINES.length + 1);
  });

  it('accepts nothing the second time the same file is ingested, whatever the batch size', async () => {
    const onRecord = Object.fromEntries(await test.store.countRejected());
    const counts = await ingest(test, inputs(LINES, 'mixed.ndjson'), 5, parser);
    expect(counts.accepted).toBe(0);
    expect(counts.duplicates).toBe(2 + 4);
    expect(counts.conflicts).toBe(1);
    expect(await test.store.countEvents()).toBe(4);
    // The four accepted lines, read again, are their own first copies: counted as
    // duplicates, put on record as nothing. The rest were on record already, once a line.
    expect(Object.fromEntries(await test.store.countRejected())).toEqual(onRecord);
    expect(onRecord).toMatchObject({ duplicate: 2, conflict: 1 });
  });

  it('submitted batches in flight together are decided in order, each with its own outcome', async () => {
    const pipeline = pipelineOn(test.store, 10, parser);
    const presented = line({
      id: 's1-p',
      type: 'call.presented',
      at: '2024-02-19T20:00:00Z',
      call: 's1',
      channel: '101',
    });
    const answered = line({
      id: 's1-a',
      type: 'call.answered',
      at: '2024-02-19T20:00:05Z',
      call: 's1',
    });
    const changed = line({
      id: 's1-p',
      type: 'call.presented',
      at: '2024-02-19T20:00:01Z',
      call: 's1',
      channel: '101',
    });
    // Both handed on before either is durable: the second must see the first's copies.
    const first = pipeline.submit(inputs([presented, answered], 'p0'));
    const second = pipeline.submit(inputs([answered, changed, '{'], 'p1'));
    const [one, two] = await Promise.all([first, second]);
    expect(one.counts).toMatchObject({ accepted: 2, duplicates: 0, conflicts: 0, rejected: 0 });
    expect(one.events.map((event) => event.id)).toEqual(['s1-p', 's1-a']);
    expect(two.counts).toEqual({
      accepted: 0,
      duplicates: 1,
      conflicts: 1,
      rejected: 1,
      rejectedByReason: { invalid_json: 1 },
    });
    expect(two.events).toEqual([]);
    expect(await test.store.countEvents({ force: 'northants' })).toBe(5);
  });

  it("hands on exactly the contract parser's events, whether a line is plain or not", async () => {
    const pipeline = pipelineOn(test.store, 100, parser);
    const gwent = (event: Record<string, unknown>) => line({ force: 'gwent', ...event });
    const lines = [
      gwent({
        id: 'e1-p',
        type: 'call.presented',
        at: '2024-02-19T18:00:00Z',
        call: 'e1',
        channel: '999',
        queue: 'q',
      }),
      gwent({
        id: 'e1-o',
        type: 'incident.opened',
        at: '2024-02-19T18:01:00.5+01:00',
        incident: 'i1',
        grade: 2,
        area: 'rural',
        call: 'e1',
        district: 'North',
      }),
      // Not plain: a non-ASCII label, an escaped string, a byte order mark, unknown fields.
      gwent({
        id: 'e1-r',
        type: 'incident.regraded',
        at: '2024-02-19T18:02:00Z',
        incident: 'i1',
        grade: 1,
        note: 'Ynys Môn',
      }),
      gwent({
        id: 'e1-d',
        type: 'unit.dispatched',
        at: '2024-02-19T18:03:00Z',
        incident: 'i1',
        unit: 'Ynys Môn 1',
      }),
      '{"v":1,"force":"gwent","id":"e1-\\u0061","type":"unit.arrived","at":"2024-02-19T18:04:00Z","incident":"i1","unit":"u1"}',
      `\uFEFF${gwent({ id: 'e1-v', type: 'victim.updated', at: '2024-02-19T18:05:00Z', incident: 'i1', source: 'crm' })}`,
      '{"v":1,"id":"e1-x"', // rejected
      gwent({
        force: 'gwent',
        id: 'e1-c',
        type: 'incident.closed',
        at: '2024-02-19T18:06:00Z',
        incident: 'i1',
      }),
    ];
    const source = { kind: 'kafka' as const, name: 'events', partition: 3, arrivedAt: clock.now() };
    const outcome = await pipeline.submitLines(lineBatch(lines, 500), source);
    const expected = lines.flatMap((text) => {
      const parsed = parseEvent(Buffer.from(text));
      return parsed.ok ? [parsed.event] : [];
    });
    expect(expected).toHaveLength(7);
    expect(outcome.counts).toMatchObject({ accepted: 7, rejected: 1 });
    expect(outcome.events).toStrictEqual(expected);
    expect(outcome.events.map((event) => JSON.stringify(event))).toEqual(
      expected.map((event) => JSON.stringify(event)),
    );
  });

  it('hands on only the events dated from liveFrom on, and stores and counts them all', async () => {
    const pipeline = pipelineOn(test.store, 100, parser);
    const dyfed = (id: string, at: string, extra: Record<string, unknown> = {}) =>
      line({ force: 'dyfed', id, type: 'call.presented', at, call: id, channel: '999', ...extra });
    const lines = [
      dyfed('d1', '2024-02-19T10:00:00Z'), // before liveFrom
      dyfed('d2', '2024-02-19T12:00:00Z'), // at liveFrom: kept
      dyfed('d3', '2024-02-19T11:59:59.999Z'), // just before
      dyfed('d4', '2024-02-19T13:00:00+01:00', { note: 'Môn' }), // = 12:00Z, not plain: kept
      dyfed('d5', '2024-02-19T11:00:00Z', { note: 'Môn' }), // not plain, before
      dyfed('d6', '2024-02-19T18:00:00Z'), // kept
    ];
    const liveFrom = Date.parse('2024-02-19T12:00:00Z');
    let decided: string[] = [];
    const source = { kind: 'kafka' as const, name: 'live', partition: 0, arrivedAt: clock.now() };
    const outcome = await pipeline.submitLines(lineBatch(lines, 0), source, {
      liveFrom: () => liveFrom,
      onDecided: (events) => {
        decided = events.map((event) => event.id);
      },
    });
    const expected = lines
      .map((text) => parseEvent(Buffer.from(text)))
      .flatMap((parsed) => (parsed.ok && parsed.event.at >= liveFrom ? [parsed.event] : []));
    expect(expected.map((event) => event.id)).toEqual(['d2', 'd4', 'd6']);
    expect(decided).toEqual(['d2', 'd4', 'd6']);
    expect(outcome.events).toStrictEqual(expected);
    expect(outcome.counts).toMatchObject({ accepted: 6, rejected: 0 });
    expect(await test.store.countEvents({ force: 'dyfed' })).toBe(6);
  });

  it('a batch whose look-up was answered before an earlier batch was durable still sees its copies', async () => {
    const pipeline = pipelineOn(test.store, 10, parser);
    const presented = line({
      force: 'cheshire',
      id: 'r1-p',
      type: 'call.presented',
      at: '2024-02-19T19:00:00Z',
      call: 'r1',
      channel: '999',
    });
    // The second batch's look-up is asked at once (before the first batch is written) but
    // its answer is held back until the first batch is durable, so it is decided after
    // that: the store's answer cannot know the first copy, the pipeline must.
    let firstDurable = () => {};
    const durable = new Promise<void>((resolve) => {
      firstDurable = resolve;
    });
    const late = new Proxy(test.store, {
      get(target, property) {
        if (property === 'knownCopies') {
          return async (...args: Parameters<typeof target.knownCopies>) => {
            const answer = await target.knownCopies(...args);
            await durable;
            return answer;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = pipeline.submit(inputs([presented], 'r0'));
    const second = pipeline.submit(inputs([presented], 'r1'), { store: late });
    await first;
    firstDurable();
    const two = await second;
    expect(two.counts).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await test.store.countEvents({ force: 'cheshire' })).toBe(1);
  });

  it('a batch written again finds the rows the engine dropped as a repeat and writes them once more', async () => {
    // What a crash leaves between the engine logging an insert's token and putting its rows
    // in place: the token known, the rows absent. Made here by deleting a written batch's
    // rows (a mutation leaves the engine's record of the token as it was).
    const name = `dropped-${dropped++}.ndjson`;
    const batch = inputs(
      [
        line({
          force: 'cumbria',
          id: `${name}-p`,
          type: 'call.presented',
          at: '2024-02-19T08:00:00Z',
          call: name,
          channel: '999',
        }),
        '{"v":1,', // invalid_json
        line({
          force: 'cumbria',
          id: `${name}-a`,
          type: 'call.answered',
          at: '2024-02-19T08:00:05Z',
          call: name,
        }),
      ],
      name,
    );
    const raw = await openRawClient(test.options);
    const stored = async () => {
      const [row] = await (
        await raw.query({
          query: `SELECT (SELECT count() FROM events WHERE source_name = {name:String}) AS events,
                         (SELECT count() FROM rejected_events WHERE source_name = {name:String}) AS rejected`,
          format: 'JSONEachRow',
          query_params: { name },
        })
      ).json<{ events: number | string; rejected: number | string }>();
      return { events: Number(row?.events), rejected: Number(row?.rejected) };
    };
    const drop = async () => {
      for (const table of ['events', 'rejected_events']) {
        await raw.command({
          query: `ALTER TABLE ${table} DELETE WHERE source_name = {name:String} SETTINGS mutations_sync = 2`,
          query_params: { name },
        });
      }
    };
    try {
      const first = await pipelineOn(test.store, 10, parser).submit(batch);
      expect(first.counts).toMatchObject({ accepted: 2, rejected: 1 });
      expect(await stored()).toEqual({ events: 2, rejected: 1 });
      await drop();
      // Written again as it was: the engine drops the repeat, and the rows stay lost.
      await pipelineOn(test.store, 10, parser).submit(batch);
      expect(await stored()).toEqual({ events: 0, rejected: 0 });
      // Written again with the check: every row is back, once.
      const again = await pipelineOn(test.store, 10, parser).submit(batch, { verifyStored: true });
      expect(again.counts).toMatchObject({ accepted: 2, rejected: 1 });
      expect(await stored()).toEqual({ events: 2, rejected: 1 });
      // Read again once more, deciding as the first time (as a Kafka chunk read again does:
      // its own stored copies do not count as stored): nothing missing, nothing written twice.
      const asFirstTime: Store = new Proxy(test.store, {
        get(target, property) {
          if (property === 'knownCopies') return async () => new Map();
          const value = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await pipelineOn(test.store, 10, parser).submit(batch, {
        store: asFirstTime,
        verifyStored: true,
      });
      expect(await stored()).toEqual({ events: 2, rejected: 1 });
    } finally {
      await raw.close();
    }
  });

  it('a file ingested again after a crash cut a write short gets that batch back, once', async () => {
    const name = `journal-${dropped++}.ndjson`;
    const call = (suffix: string) =>
      line({
        force: 'dorset',
        id: `${name}-${suffix}`,
        type: 'call.presented',
        at: '2024-02-19T08:00:00Z',
        call: `${name}-${suffix}`,
        channel: '101',
      });
    // Batches of three: [a, b, junk], [c, b again, d], [e].
    const file = inputs(
      [call('a'), call('b'), '{', call('c'), call('b'), call('d'), call('e')],
      name,
    );
    const raw = await openRawClient(test.options);
    const folder = mkdtempSync(join(tmpdir(), 'callmon-journal-'));
    const select = async <T>(query: string) =>
      await (await raw.query({ query, format: 'JSONEachRow', query_params: { name } })).json<T>();
    // The offsets stored from lines `from` to `to` of the file.
    const stored = async (from = 1, to = 7) => {
      const offsets = async (table: string) =>
        (
          await select<{ offset: number | string }>(
            `SELECT source_offset AS offset FROM ${table} WHERE source_name = {name:String}
               AND source_offset BETWEEN ${from} AND ${to} ORDER BY offset`,
          )
        ).map((row) => Number(row.offset));
      return { events: await offsets('events'), rejected: await offsets('rejected_events') };
    };
    // The second batch (lines 4–6): what a re-run of the file must bring back. (A re-run's
    // rejected rows of other batches follow the rule for files ingested again, not this.)
    const secondBatch = () => stored(4, 6);
    const run = async (journal: FileWriteJournal) => {
      const pipeline = pipelineOn(test.store, 3, parser, { writeJournal: journal });
      for (const input of file) await pipeline.offer(input);
      await pipeline.flush();
      return pipeline.counts;
    };
    try {
      const journalPath = join(folder, 'first');
      const first = await run(new FileWriteJournal(journalPath));
      expect(first).toMatchObject({ accepted: 5, duplicates: 1, rejected: 1 });
      expect(await stored()).toEqual({ events: [1, 2, 4, 6, 7], rejected: [3, 5] });
      const whole = { events: [4, 6], rejected: [5] };
      // Every write ended: nothing left for a next run to check.
      expect(readFileSync(journalPath, 'utf8')).toBe('');

      // The crash: the second batch's token logged by the engine, its rows never in place.
      const [{ batch } = { batch: '' }] = await select<{ batch: string }>(
        'SELECT DISTINCT batch FROM events WHERE source_name = {name:String} AND source_offset = 4',
      );
      expect(batch).not.toBe('');
      for (const table of ['events', 'rejected_events']) {
        await raw.command({
          query: `ALTER TABLE ${table} DELETE WHERE batch = {batch:String} SETTINGS mutations_sync = 2`,
          query_params: { batch },
        });
      }
      const cut = { events: [], rejected: [] };
      expect(await secondBatch()).toEqual(cut);

      // Run again with a journal that does not name the batch: c and d are decided new and
      // written under the logged token, which the engine drops.
      const unnamed = await run(new FileWriteJournal(join(folder, 'unnamed')));
      expect(unnamed.accepted).toBe(2);
      expect(await secondBatch()).toEqual(cut);

      // Run again with the journal the crashed run left: the batch is checked and restored.
      const leftBehind = join(folder, 'left-behind');
      writeFileSync(leftBehind, `${batch}\n`);
      const journal = new FileWriteJournal(leftBehind);
      expect(journal.leftOver).toEqual([batch]);
      const again = await run(journal);
      expect(again).toMatchObject({ accepted: 2, duplicates: 4, conflicts: 0, rejected: 1 });
      // c and d back, and the in-file duplicate's rejection; the lines the first run
      // accepted (now duplicates of themselves) are not rejections of the file.
      expect(await secondBatch()).toEqual(whole);
      expect(readFileSync(leftBehind, 'utf8')).toBe('');

      // And once more: nothing is missing, nothing is written twice.
      writeFileSync(leftBehind, `${batch}\n`);
      expect((await run(new FileWriteJournal(leftBehind))).accepted).toBe(0);
      expect(await secondBatch()).toEqual(whole);
    } finally {
      await raw.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('retries a failing store write with the same batch and loses nothing', async () => {
    let failures = 2;
    const flaky = new Proxy(test.store, {
      get(target, property, receiver) {
        if (property === 'insertEvents') {
          return (...args: Parameters<typeof target.insertEvents>) => {
            if (failures-- > 0) return Promise.reject(new Error('connection reset'));
            return target.insertEvents(...args);
          };
        }
        if (property === 'insertEncodedEvents') {
          return (...args: Parameters<typeof target.insertEncodedEvents>) => {
            if (failures-- > 0) return Promise.reject(new Error('connection reset'));
            return target.insertEncodedEvents(...args);
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const fresh = [
      line({
        id: 'c9-p',
        type: 'call.presented',
        at: '2024-02-19T23:00:00Z',
        call: 'c9',
        channel: '999',
      }),
    ];
    const pipeline = pipelineOn(flaky, 10, parser, { sleep: async () => {} });
    for (const input of inputs(fresh, 'flaky.ndjson')) await pipeline.offer(input);
    await pipeline.flush();
    expect(failures).toBe(-1);
    expect(pipeline.counts.accepted).toBe(1);
    expect(await test.store.countEvents({ force: 'northants' })).toBe(6);
  });
});

describe('ingest pipeline on a store still opening', () => {
  const fileSource = (name: string) => ({
    kind: 'file' as const,
    name,
    partition: 0,
    arrivedAt: clock.now(),
  });
  const calls = (count: number) =>
    Array.from({ length: count }, (_, index) =>
      line({
        id: `open-${index}`,
        type: 'call.presented',
        at: '2024-02-19T21:00:00Z',
        call: `open-c${index}`,
        channel: '999',
      }),
    );

  it('parses lines while the store opens, and writes them once it is open', async () => {
    const test = await openTestStore();
    try {
      let open: (store: Store) => void = () => {};
      const opening = new Promise<Store>((resolve) => {
        open = resolve;
      });
      const parsed: number[] = [];
      const parser: BatchParser = {
        parse: (batch, withEvents) => parseHere.parse(batch, withEvents),
        parseLines: (lines, source, withEvents) => {
          parsed.push(lines.starts.length);
          return parseHere.parseLines(lines, source, withEvents);
        },
      };
      const pipeline = new IngestPipeline({ store: opening, log, clock, batchRows: 10, parser });
      pipeline.addLines(lineBatch(calls(10), 1), fileSource('opening.ndjson'));
      pipeline.addLines(lineBatch(calls(20).slice(10), 11), fileSource('opening.ndjson'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Both batches parsed, nothing written: the store is not open yet.
      expect(parsed).toEqual([10, 10]);
      expect(pipeline.counts.accepted).toBe(0);
      open(test.store);
      await pipeline.flush();
      expect(pipeline.counts).toMatchObject({ accepted: 20, duplicates: 0, rejected: 0 });
      expect(await test.store.countEvents({ force: 'northants' })).toBe(20);
    } finally {
      await test.cleanup();
    }
  });

  it('fails every batch with the error of a store that does not open, without retrying', async () => {
    const failure = new Error('the data folder is locked');
    const waits: number[] = [];
    const pipeline = new IngestPipeline({
      store: Promise.reject(failure),
      log,
      clock,
      batchRows: 10,
      parser: parseHere,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    pipeline.addLines(lineBatch(calls(10), 1), fileSource('locked.ndjson'));
    await expect(pipeline.flush()).rejects.toBe(failure);
    expect(waits).toEqual([]);
    expect(pipeline.counts.accepted).toBe(0);
  });
});
