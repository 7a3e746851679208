import { eventFingerprint } from '@callmon/events';
import type { Store } from '@callmon/store';
import { openTestStore, type TestStore } from '@callmon/store/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHere } from './parse-workers.ts';
import {
  type BatchParser,
  IngestPipeline,
  type PipelineOptions,
  type RawInput,
} from './pipeline.ts';

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

// Parsed on the pipeline's thread (Kafka, server mode), or elsewhere as encoded rows (the
// file ingest's worker threads; here the same work on this thread): the same outcome.
describe.each([
  ['parsed as inputs arrive', undefined],
  ['parsed elsewhere into encoded rows', parseHere],
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
    const counts = await ingest(test, inputs(LINES, 'mixed.ndjson'), 5, parser);
    expect(counts.accepted).toBe(0);
    expect(counts.duplicates).toBe(2 + 4);
    expect(counts.conflicts).toBe(1);
    expect(await test.store.countEvents()).toBe(4);
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
        if (property === 'knownFingerprints') {
          return async (...args: Parameters<typeof target.knownFingerprints>) => {
            const answer = await target.knownFingerprints(...args);
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
