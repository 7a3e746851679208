import { type CallmonEventWire, EVENT_TYPES, eventFingerprint, parseEvent } from '@callmon/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from './records.ts';
import { openTestStore, recordsFromLines, type TestStore } from './testing.ts';

let test: TestStore;

beforeAll(async () => {
  test = await openTestStore();
});

afterAll(async () => {
  await test?.cleanup();
});

const force = 'northants';

/** Every event type, with all its optional fields, and again with none of them. */
const full: CallmonEventWire[] = [
  {
    v: 1,
    id: 'c1-p',
    type: 'call.presented',
    force,
    at: '2024-02-19T21:04:05.123Z',
    call: 'c1',
    channel: '999',
    queue: 'general',
    source: 'iccs',
  },
  {
    v: 1,
    id: 'c1-a',
    type: 'call.answered',
    force,
    at: '2024-02-19T21:04:13.900Z',
    call: 'c1',
    handler: 'h17',
    source: 'iccs',
  },
  {
    v: 1,
    id: 'c2-x',
    type: 'call.abandoned',
    force,
    at: '2024-02-19T21:05:00.001Z',
    call: 'c2',
    source: 'iccs',
  },
  {
    v: 1,
    id: 'c1-c',
    type: 'call.closed',
    force,
    at: '2024-02-19T21:09:59.999Z',
    call: 'c1',
    source: 'iccs',
  },
  {
    v: 1,
    id: 'i1-o',
    type: 'incident.opened',
    force,
    at: '2024-02-19T22:06:40+01:00',
    incident: 'i1',
    grade: 2,
    area: 'rural',
    call: 'c1',
    district: 'daventry',
    source: 'cad',
  },
  {
    v: 1,
    id: 'i1-r',
    type: 'incident.regraded',
    force,
    at: '2024-02-19T21:07:00.5Z',
    incident: 'i1',
    grade: 1,
    source: 'cad',
  },
  {
    v: 1,
    id: 'i1-d',
    type: 'unit.dispatched',
    force,
    at: '2024-02-19T21:07:30Z',
    incident: 'i1',
    unit: 'NR12',
    source: 'cad',
  },
  {
    v: 1,
    id: 'i1-u',
    type: 'unit.arrived',
    force,
    at: '2024-02-19T21:19:02Z',
    incident: 'i1',
    unit: 'NR12',
    source: 'cad',
  },
  {
    v: 1,
    id: 'i1-v',
    type: 'victim.updated',
    force,
    at: '2024-02-19T21:15:00.010Z',
    incident: 'i1',
    source: 'cad',
  },
  {
    v: 1,
    id: 'i1-z',
    type: 'incident.closed',
    force,
    at: '2024-02-19T23:00:00Z',
    incident: 'i1',
    source: 'cad',
  },
];
const bare: CallmonEventWire[] = [
  {
    v: 1,
    id: 'c3-p',
    type: 'call.presented',
    force,
    at: '2024-02-20T00:00:00Z',
    call: 'c3',
    channel: '101',
  },
  { v: 1, id: 'c3-a', type: 'call.answered', force, at: '2024-02-20T00:01:00Z', call: 'c3' },
  {
    v: 1,
    id: 'i2-o',
    type: 'incident.opened',
    force,
    at: '2024-02-20T00:02:00Z',
    incident: 'i2',
    grade: 4,
    area: 'urban',
  },
];
/** The contract allows any year from 0000 to 9999 and millisecond precision. */
const edges: CallmonEventWire[] = [
  {
    v: 1,
    id: 'e-min',
    type: 'victim.updated',
    force,
    at: '0000-01-01T00:00:00.000Z',
    incident: 'edge',
  },
  {
    v: 1,
    id: 'e-1969',
    type: 'victim.updated',
    force,
    at: '1969-12-31T23:59:59.999Z',
    incident: 'edge',
  },
  {
    v: 1,
    id: 'e-max',
    type: 'victim.updated',
    force,
    at: '9999-12-31T23:59:59.999Z',
    incident: 'edge',
  },
];
/** Extra fields are not part of the event, but stay in the raw line. */
const extra = `{"v":1,"id":"c4-p","type":"call.presented","force":"${force}","at":"2024-02-20T00:03:00Z","call":"c4","channel":"101","vendor_ref":"X-1","label":"ünïcödé ☎ \\"q\\""}`;

const lines = [...full, ...bare, ...edges].map((event) => JSON.stringify(event)).concat(extra);
let records: EventRecord[];

beforeAll(async () => {
  records = recordsFromLines(
    lines,
    { kind: 'file', name: '/var/feeds/nth.ndjson', partition: 0 },
    1_708_400_000_321,
  );
  await test.store.insertEvents(records, { dedupToken: 'file:/var/feeds/nth.ndjson:1-17' });
});

describe('accepted events round trip', () => {
  it('covers every event type of the contract', () => {
    expect(new Set(full.map((event) => event.type))).toEqual(new Set(EVENT_TYPES));
  });

  it('every event reads back exactly as parsed: same fields, same millisecond time', async () => {
    const stored = await test.store.readEvents({ force });
    const expected = records.map((record) => record.event);
    expect(stored).toHaveLength(expected.length);
    expect(new Map(stored.map((event) => [event.id, event]))).toEqual(
      new Map(expected.map((event) => [event.id, event])),
    );
    for (const event of stored) {
      const original = expected.find((candidate) => candidate.id === event.id)!;
      expect(eventFingerprint(event)).toBe(eventFingerprint(original));
    }
  });

  it('events come back ordered by event time, then id', async () => {
    const stored = await test.store.readEvents({ force });
    const order = [...stored].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    expect(stored.map((event) => event.id)).toEqual(order.map((event) => event.id));
  });

  it('a time range is half-open on event time: from <= at < to', async () => {
    const at = (id: string) => records.find((record) => record.event.id === id)!.event.at;
    const window = await test.store.readEvents({ force, from: at('c1-p'), to: at('c1-c') });
    expect(window.map((event) => event.id)).toEqual([
      'c1-p',
      'c1-a',
      'c2-x',
      'i1-o',
      'i1-r',
      'i1-d',
    ]);
    expect(window.some((event) => event.id === 'c1-c')).toBe(false);
    expect(await test.store.readEvents({ force, from: at('e-max') })).toHaveLength(1);
    expect(await test.store.readEvents({ force, to: at('e-1969') + 1 })).toHaveLength(2);
  });

  it('another force sees none of them', async () => {
    expect(await test.store.readEvents({ force: 'cumbria' })).toEqual([]);
    expect(await test.store.countEvents({ force: 'cumbria' })).toBe(0);
  });

  it('countEvents counts by force, type and event-time range', async () => {
    expect(await test.store.countEvents()).toBe(lines.length);
    expect(await test.store.countEvents({ force })).toBe(lines.length);
    expect(await test.store.countEvents({ force, type: 'call.presented' })).toBe(3);
    expect(
      await test.store.countEvents({
        force,
        from: Date.parse('2024-02-20T00:00:00Z'),
        to: Date.parse('2024-02-21T00:00:00Z'),
      }),
    ).toBe(4);
  });

  it('forcesWithEvents lists the forces with an event dated in the range', async () => {
    const other = recordsFromLines(
      [
        JSON.stringify({
          v: 1,
          id: 'w-1',
          type: 'call.presented',
          force: 'wmp',
          at: '2024-03-05T10:00:00Z',
          call: 'w1',
          channel: '101',
        }),
      ],
      { kind: 'file', name: 'forces-test', partition: 0 },
      Date.parse('2030-01-01T00:00:00Z'),
    );
    await test.store.insertEvents(other, { dedupToken: 'events-test:forces' });
    expect(await test.store.forcesWithEvents()).toEqual([force, 'wmp']);
    const march = {
      from: Date.parse('2024-03-01T00:00:00Z'),
      to: Date.parse('2024-04-01T00:00:00Z'),
    };
    expect(await test.store.forcesWithEvents(march)).toEqual(['wmp']);
    expect(await test.store.forcesWithEvents({ to: march.from })).toEqual([force]);
    expect(await test.store.forcesWithEvents({ from: march.to, to: march.to + 1 })).toEqual([]);
  });
});

describe('audit timelines', () => {
  it('a call timeline holds every event naming the call, with raw line and position', async () => {
    const timeline = await test.store.eventsOfCall(force, 'c1');
    expect(timeline.map((entry) => entry.event.id)).toEqual(['c1-p', 'c1-a', 'i1-o', 'c1-c']);
    const presented = timeline[0]!;
    expect(presented.raw).toBe(lines[0]);
    expect(presented.arrivedAt).toBe(1_708_400_000_321);
    expect(presented.position).toEqual({
      kind: 'file',
      name: '/var/feeds/nth.ndjson',
      partition: 0,
      offset: 1,
    });
    expect(presented.batch).toBe('file:/var/feeds/nth.ndjson:1-17');
    expect(presented.counted).toBe(true);
    expect(presented.fingerprint).toBe(eventFingerprint(records[0]!.event));
  });

  it('an incident timeline holds its events by event time', async () => {
    const timeline = await test.store.eventsOfIncident(force, 'i1');
    expect(timeline.map((entry) => entry.event.id)).toEqual([
      'i1-o',
      'i1-r',
      'i1-d',
      'i1-v',
      'i1-u',
      'i1-z',
    ]);
    expect(timeline.every((entry) => entry.counted)).toBe(true);
  });

  it('the raw line keeps what the event drops: unknown fields, zone spelling, unicode', async () => {
    const [entry] = await test.store.eventsOfCall(force, 'c4');
    expect(entry!.raw).toBe(extra);
    const reparsed = parseEvent(entry!.raw);
    expect(reparsed.ok && reparsed.event).toEqual(entry!.event);
    const [opened] = (await test.store.eventsOfIncident(force, 'i1')).filter(
      (candidate) => candidate.event.type === 'incident.opened',
    );
    expect(opened!.raw).toContain('"2024-02-19T22:06:40+01:00"');
    expect(opened!.event.at).toBe(Date.parse('2024-02-19T21:06:40Z'));
  });

  it('an unknown call or incident has an empty timeline', async () => {
    expect(await test.store.eventsOfCall(force, 'nope')).toEqual([]);
    expect(await test.store.eventsOfIncident(force, 'nope')).toEqual([]);
  });
});
