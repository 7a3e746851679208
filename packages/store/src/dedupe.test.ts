import { type CallmonEventWire, eventFingerprint, parseEvent } from '@callmon/events';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord, SourcePosition } from './records.ts';
import { openStore, type Store } from './store.ts';
import { openRawClient, openTestStore, recordsFromLines, type TestStore } from './testing.ts';

let test: TestStore;
let raw: ClickHouseClient;

beforeAll(async () => {
  test = await openTestStore();
  raw = await openRawClient(test.options);
});

afterAll(async () => {
  await raw?.close();
  await test?.cleanup();
});

/** The fingerprint of each known id's first copy (what most of these tests compare). */
async function knownFingerprints(
  store: Store,
  force: string,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const known = await store.knownCopies(force, ids);
  return new Map([...known].map(([id, copy]) => [id, copy.fingerprint]));
}

/** Physical rows, duplicates included: what the de-duplicating reads must see through. */
async function storedCopies(force: string): Promise<number> {
  const result = await raw.query({
    query: 'SELECT count() AS n FROM events WHERE force = {force:String}',
    format: 'JSONEachRow',
    query_params: { force },
  });
  const [row] = await result.json<{ n: number | string }>();
  return Number(row?.n);
}

function call(force: string, n: number): string[] {
  const at = Date.UTC(2024, 2, 1, 12) + n * 60_000;
  const events: CallmonEventWire[] = [
    {
      v: 1,
      id: `c${n}-p`,
      type: 'call.presented',
      force,
      at: new Date(at).toISOString(),
      call: `c${n}`,
      channel: '999',
    },
    {
      v: 1,
      id: `c${n}-a`,
      type: 'call.answered',
      force,
      at: new Date(at + 7_000).toISOString(),
      call: `c${n}`,
    },
  ];
  return events.map((event) => JSON.stringify(event));
}

function kafka(offset: number): Omit<SourcePosition, 'offset'> & { firstOffset: number } {
  return { kind: 'kafka', name: 'callmon.events.v1', partition: 2, firstOffset: offset };
}

describe('a retried batch (same dedup token) is stored once', () => {
  it('inserting the identical batch twice keeps one copy', async () => {
    const force = 'retry-same';
    const batch = recordsFromLines([...call(force, 1), ...call(force, 2)], kafka(100), 1_000);
    await test.store.insertEvents(batch, { dedupToken: 'kafka:callmon.events.v1:2:100-103' });
    await test.store.insertEvents(batch, { dedupToken: 'kafka:callmon.events.v1:2:100-103' });
    expect(await storedCopies(force)).toBe(4);
    expect(await test.store.countEvents({ force })).toBe(4);
  });

  it('the token decides, not the content: a retry stamped with a later arrival is still dropped', async () => {
    const force = 'retry-restamped';
    const lines = call(force, 1);
    await test.store.insertEvents(recordsFromLines(lines, kafka(7), 1_000), {
      dedupToken: 't-7-8',
    });
    await test.store.insertEvents(recordsFromLines(lines, kafka(7), 9_000), {
      dedupToken: 't-7-8',
    });
    expect(await storedCopies(force)).toBe(2);
    const [first] = await test.store.eventsOfCall(force, 'c1');
    expect(first!.arrivedAt).toBe(1_000);
  });

  it('a batch spanning several months (partitions) is dropped whole on retry', async () => {
    const force = 'retry-partitions';
    const lines = [0, 1, 2].map((month) =>
      JSON.stringify({
        v: 1,
        id: `m${month}`,
        type: 'victim.updated',
        force,
        at: new Date(Date.UTC(2024, month, 28)).toISOString(),
        incident: 'i',
      }),
    );
    const batch = recordsFromLines(lines, kafka(0), 1_000);
    await test.store.insertEvents(batch, { dedupToken: 'months' });
    await test.store.insertEvents(batch, { dedupToken: 'months' });
    expect(await storedCopies(force)).toBe(3);
  });

  it('a token reaches chDB as a quoted literal: quotes, backslashes and newlines are safe', async () => {
    const force = 'retry-odd-token';
    const batch = recordsFromLines(
      call(force, 1),
      { kind: 'file', name: "/tmp/it's\\odd\n.ndjson", partition: 0 },
      1,
    );
    const token = "file:/tmp/it's\\odd\n.ndjson:1-2";
    await test.store.insertEvents(batch, { dedupToken: token });
    await test.store.insertEvents(batch, { dedupToken: token });
    expect(await storedCopies(force)).toBe(2);
    expect((await test.store.eventsOfCall(force, 'c1'))[0]!.batch).toBe(token);
  });

  it('each batch has its own token: a batch after a retried one is not swallowed', async () => {
    // Regression guard for a chDB quirk: settings passed as clickhouse_settings become a
    // session-wide SET, so the next insert reused the previous token and was dropped.
    const force = 'retry-next';
    await test.store.insertEvents(recordsFromLines(call(force, 1), kafka(0), 1), {
      dedupToken: 'a',
    });
    await test.store.insertEvents(recordsFromLines(call(force, 2), kafka(2), 1), {
      dedupToken: 'b',
    });
    expect(await storedCopies(force)).toBe(4);
  });

  it('a batch larger than one INSERT is split into chunks that are each idempotent', async () => {
    const force = 'retry-big';
    const batch: EventRecord[] = Array.from({ length: 60_000 }, (_, n) => ({
      event: {
        v: 1,
        id: `v${n}`,
        type: 'victim.updated',
        force,
        at: Date.UTC(2024, 0, 1) + n,
        incident: `i${n % 100}`,
      },
      raw: `{"id":"v${n}"}`,
      arrivedAt: 1,
      position: { kind: 'kafka', name: 'callmon.events.v1', partition: 2, offset: n },
    }));
    await test.store.insertEvents(batch, { dedupToken: 'big' });
    await test.store.insertEvents(batch, { dedupToken: 'big' });
    expect(await storedCopies(force)).toBe(60_000);
  });

  it('an empty token is refused, since it would mean "deduplicate by content" instead', async () => {
    const batch = recordsFromLines(call('retry-empty', 1), kafka(0), 1);
    await expect(test.store.insertEvents(batch, { dedupToken: '' })).rejects.toThrow(/dedupToken/);
  });
});

describe('rowsOfBatch: what is stored of a batch and of its rewrites', () => {
  it('lists the events and rejected inputs of the token and its #again rewrites, no others', async () => {
    const force = 'rows-of-batch';
    const junk = (offset: number) => ({
      raw: '{',
      reason: 'invalid_json' as const,
      detail: 'not JSON',
      arrivedAt: 1,
      position: { kind: 'file' as const, name: 'rows.ndjson', partition: 0, offset },
    });
    const file = { kind: 'file' as const, name: 'rows.ndjson', partition: 0 };
    await test.store.insertEvents(
      recordsFromLines(call(force, 1), { ...file, firstOffset: 1 }, 1),
      {
        dedupToken: 'rows:1-3',
      },
    );
    await test.store.insertRejected([junk(3)], { dedupToken: 'rows:1-3' });
    await test.store.insertEvents(
      recordsFromLines(call(force, 2), { ...file, firstOffset: 4 }, 1),
      {
        dedupToken: 'rows:1-3#again-1',
      },
    );
    await test.store.insertRejected([junk(6)], { dedupToken: 'rows:1-3#again-2' });
    // Tokens that merely start alike belong to other batches.
    await test.store.insertEvents(
      recordsFromLines(call(force, 3), { ...file, firstOffset: 7 }, 1),
      {
        dedupToken: 'rows:1-30',
      },
    );
    await test.store.insertRejected([junk(9)], { dedupToken: 'rows:1-3#again' });

    const held = await test.store.rowsOfBatch('rows:1-3');
    expect([...held.events].sort()).toEqual(
      ['c1-a', 'c1-p', 'c2-a', 'c2-p'].map((id) => `${force}\u0000${id}`),
    );
    expect([...held.rejectedOffsets].sort()).toEqual([3, 6]);
  });
});

describe('the same event in two different batches is counted once', () => {
  const force = 'overlap';
  let first: EventRecord[];
  let second: EventRecord[];

  beforeAll(async () => {
    // A consumer crashed after writing offsets 0–3 and before committing; its successor
    // re-reads from 2 with different batch boundaries.
    const lines = [...call(force, 1), ...call(force, 2), ...call(force, 3)];
    first = recordsFromLines(lines.slice(0, 4), kafka(0), 1_000);
    second = recordsFromLines(lines.slice(2), kafka(2), 5_000);
    await test.store.insertEvents(first, { dedupToken: 'p2:0-3' });
    await test.store.insertEvents(second, { dedupToken: 'p2:2-5' });
  });

  it('both copies are kept, because events are immutable', async () => {
    expect(await storedCopies(force)).toBe(8);
  });

  it('reads and counts see each event once', async () => {
    expect(await test.store.countEvents({ force })).toBe(6);
    const events = await test.store.readEvents({ force });
    expect(events.map((event) => event.id)).toEqual([
      'c1-p',
      'c1-a',
      'c2-p',
      'c2-a',
      'c3-p',
      'c3-a',
    ]);
  });

  it('the audit timeline shows both copies and marks the first to arrive as the counted one', async () => {
    const timeline = await test.store.eventsOfCall(force, 'c2');
    expect(timeline.map((entry) => [entry.event.id, entry.arrivedAt, entry.counted])).toEqual([
      ['c2-p', 1_000, true],
      ['c2-p', 5_000, false],
      ['c2-a', 1_000, true],
      ['c2-a', 5_000, false],
    ]);
  });

  it('knownCopies reports the stored fingerprint of each known id, once', async () => {
    const known = await knownFingerprints(test.store, force, ['c2-p', 'c2-p', 'c9-p', 'c3-a']);
    expect(known).toEqual(
      new Map([
        ['c2-p', eventFingerprint(second[0]!.event)],
        ['c3-a', eventFingerprint(second[3]!.event)],
      ]),
    );
    expect(await knownFingerprints(test.store, 'another-force', ['c2-p'])).toEqual(new Map());
    expect(await knownFingerprints(test.store, force, [])).toEqual(new Map());
  });

  it('knownCopies says where the first copy of each known id was read from', async () => {
    const known = await test.store.knownCopies(force, ['c2-p', 'c3-a', 'c9-p']);
    const at = (offset: number) => ({
      kind: 'kafka',
      name: 'callmon.events.v1',
      partition: 2,
      offset,
    });
    expect(known).toEqual(
      new Map([
        ['c2-p', { fingerprint: eventFingerprint(first[2]!.event), position: at(2) }],
        ['c3-a', { fingerprint: eventFingerprint(second[3]!.event), position: at(5) }],
      ]),
    );
  });

  it('knownCopies answers for more ids than one look-up query takes', async () => {
    const ids = Array.from({ length: 25_000 }, (_, n) => `unknown-${n}`);
    ids.splice(12_345, 0, 'c1-p');
    ids.push('c3-a');
    const known = await knownFingerprints(test.store, force, ids);
    expect([...known.keys()].sort()).toEqual(['c1-p', 'c3-a']);
  });
});

describe('same id with different content: the first copy stands, the conflict is recorded', () => {
  const force = 'conflict';
  const original = `{"v":1,"id":"c1-p","type":"call.presented","force":"${force}","at":"2024-03-01T12:00:00Z","call":"c1","channel":"999"}`;
  const changed = `{"v":1,"id":"c1-p","type":"call.presented","force":"${force}","at":"2024-03-01T12:00:30Z","call":"c1","channel":"101"}`;

  it('the ingest path: the stored fingerprint differs, so the second copy goes to rejected as a conflict', async () => {
    const [stored] = recordsFromLines([original], kafka(10), 1_000);
    await test.store.insertEvents([stored!], { dedupToken: 'c:10' });

    const [incoming] = recordsFromLines([changed], kafka(11), 2_000);
    const fingerprint = eventFingerprint(incoming!.event);
    const known = await knownFingerprints(test.store, force, [incoming!.event.id]);
    expect(known.get('c1-p')).toBe(eventFingerprint(stored!.event));
    expect(known.get('c1-p')).not.toBe(fingerprint);

    await test.store.insertRejected(
      [
        {
          raw: changed,
          reason: 'conflict',
          detail: `id c1-p is stored with different content (fingerprint ${known.get('c1-p')})`,
          force,
          eventId: 'c1-p',
          fingerprint,
          arrivedAt: incoming!.arrivedAt,
          position: incoming!.position,
        },
      ],
      { dedupToken: 'c:11' },
    );

    expect(await test.store.readEvents({ force })).toEqual([stored!.event]);
    const conflicts = await test.store.listRejected({ reason: 'conflict', force, limit: 10 });
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      reason: 'conflict',
      eventId: 'c1-p',
      fingerprint,
      position: { kind: 'kafka', name: 'callmon.events.v1', partition: 2, offset: 11 },
    });
    expect(conflicts[0]!.raw.toString('utf8')).toBe(changed);
  });

  it('if a conflicting copy is written anyway (a second writer), reads still show only the first', async () => {
    const [late] = recordsFromLines([changed], kafka(11), 3_000);
    await test.store.insertEvents([late!], { dedupToken: 'rogue:11' });
    expect(await storedCopies(force)).toBe(2);
    const events = await test.store.readEvents({ force });
    const parsed = parseEvent(original);
    expect(events).toEqual([parsed.ok && parsed.event]);
    expect(await test.store.countEvents({ force })).toBe(1);
    const timeline = await test.store.eventsOfCall(force, 'c1');
    expect(timeline.map((entry) => [entry.arrivedAt, entry.counted])).toEqual([
      [1_000, true],
      [3_000, false],
    ]);
    const known = await knownFingerprints(test.store, force, ['c1-p']);
    expect(known.get('c1-p')).toBe(eventFingerprint(events[0]!));
  });
});

describe('deduplication survives a restart', () => {
  it('a batch retried after the store was closed and reopened is still dropped', async () => {
    const force = 'restart';
    const batch = recordsFromLines(call(force, 1), kafka(40), 1_000);
    await test.store.insertEvents(batch, { dedupToken: 'restart:40-41' });
    await raw.close();
    await test.store.close();

    test.store = await openStore(test.options);
    raw = await openRawClient(test.options);
    await test.store.insertEvents(batch, { dedupToken: 'restart:40-41' });
    expect(await storedCopies(force)).toBe(2);
  });
});

describe('look-ups for a force this process tracks are answered from its own writes and the ids stored before', () => {
  it('every id written since is found with its stored fingerprint; ids never written are not', async () => {
    const force = 'fresh-lookup';
    expect(await knownFingerprints(test.store, force, ['c1-p'])).toEqual(new Map());
    const batch = recordsFromLines(
      Array.from({ length: 200 }, (_, n) => call(force, n)).flat(),
      kafka(100),
      1_000,
    );
    await test.store.insertEvents(batch, { dedupToken: 'fresh:100' });
    const ids = batch.map((record) => record.event.id);
    const known = await knownFingerprints(test.store, force, [...ids, 'c1-x', 'c200-p']);
    expect(known).toEqual(
      new Map(batch.map((record) => [record.event.id, eventFingerprint(record.event)])),
    );
  });

  it('a write racing the first look-up of a force is still found afterwards', async () => {
    const force = 'fresh-race';
    const batch = recordsFromLines(call(force, 1), kafka(300), 1_000);
    const [first] = await Promise.all([
      knownFingerprints(test.store, force, ['c1-p']),
      test.store.insertEvents(batch, { dedupToken: 'race:300' }),
    ]);
    expect(first.size).toBeLessThanOrEqual(1);
    const known = await knownFingerprints(test.store, force, ['c1-p', 'c1-a']);
    expect([...known.keys()].sort()).toEqual(['c1-a', 'c1-p']);
  });

  it('after a restart over stored rows, their ids are read into the filter: each is found, and ids never written need no query', async () => {
    const force = 'seeded-restart';
    // Ids past ASCII too: the engine hashes the stored UTF-8, this process the strings.
    const suffixes = ['', '-é', '-😀', '-日本', '-ß\u0000'];
    const lines = Array.from({ length: 40 }, (_, n) => call(force, n))
      .flat()
      .map((line, index) => {
        const event = JSON.parse(line) as CallmonEventWire;
        return JSON.stringify({ ...event, id: `${event.id}${suffixes[index % suffixes.length]}` });
      });
    const batch = recordsFromLines(lines, kafka(500), 1_000);
    await test.store.insertEvents(batch, { dedupToken: 'seeded-restart:500' });
    await raw.close();
    await test.store.close();

    test.store = await openStore(test.options);
    raw = await openRawClient(test.options);
    const ids = batch.map((record) => record.event.id);
    const known = await knownFingerprints(test.store, force, [...ids, 'never-1']);
    expect(known).toEqual(
      new Map(batch.map((record) => [record.event.id, eventFingerprint(record.event)])),
    );
    // With the table out of the engine's reach, only an answer from the filter can succeed.
    await raw.command({ query: 'RENAME TABLE events TO events_aside' });
    try {
      expect(await knownFingerprints(test.store, force, ['never-2', 'never-3-é'])).toEqual(
        new Map(),
      );
      await expect(knownFingerprints(test.store, force, [ids[3]!])).rejects.toThrow(/events/);
    } finally {
      await raw.command({ query: 'RENAME TABLE events_aside TO events' });
    }
  });

  it('after a restart, ids written by the earlier process are found', async () => {
    const force = 'fresh-restart';
    await knownFingerprints(test.store, force, ['c1-p']);
    const batch = recordsFromLines(call(force, 1), kafka(400), 1_000);
    await test.store.insertEvents(batch, { dedupToken: 'fresh-restart:400' });
    await raw.close();
    await test.store.close();

    test.store = await openStore(test.options);
    raw = await openRawClient(test.options);
    const known = await knownFingerprints(test.store, force, ['c1-p', 'c1-a', 'c2-p']);
    expect([...known.keys()].sort()).toEqual(['c1-a', 'c1-p']);
  });
});
