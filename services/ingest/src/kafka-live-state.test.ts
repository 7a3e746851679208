import { type LiveAlert, Policy, rollingSnapshot } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import type { EventRange } from '@callmon/store';
import { openTestStore, type TestStore } from '@callmon/store/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaLiveState, LIVE_LATENESS_MS } from './kafka-live-state.ts';
import { LiveBus } from './live-state.ts';

const log = pino({ level: 'silent' });
const policy = Policy.ukDefault();
const DAY = 86_400_000;
const T = Date.parse('2026-11-20T12:00:00Z');
const noWait = async () => {};

const presented = (force: string, call: string, at: number): CallmonEvent => ({
  v: 1,
  id: `${call}-p`,
  type: 'call.presented',
  force,
  at,
  call,
  channel: '999',
});
const answered = (force: string, call: string, at: number): CallmonEvent => ({
  v: 1,
  id: `${call}-a`,
  type: 'call.answered',
  force,
  at,
  call,
});

/** Events the previous owner of the partition stored, as a store holds them. */
const STORED: CallmonEvent[] = [
  presented('northants', 'old', T - 7 * DAY - LIVE_LATENESS_MS - 1), // before the horizon
  presented('northants', 'c1', T - 2 * DAY),
  answered('northants', 'c1', T - 2 * DAY + 4_000), // within 10 s
  presented('northants', 'c2', T - 3_600_000),
  answered('northants', 'c2', T - 3_600_000 + 25_000), // breached
  presented('northants', 'c3', T - 60_000), // ringing, breached long ago: no new alert
  presented('cleveland', 'k1', T - 30_000),
];

/** A member's live state at `T` over `store`, and the alerts it published. */
function liveStateAt(store: TestStore['store'], now: () => number = () => T) {
  const bus = new LiveBus();
  const alerts: LiveAlert[] = [];
  bus.on('alert', (alert) => alerts.push(alert));
  return { state: new KafkaLiveState({ store, policy, bus, clock: { now }, log }), alerts };
}

/** Store `events` as one chunk of `partition`, offsets from `first`, as the ingest writes them. */
function storeChunk(
  store: TestStore['store'],
  events: CallmonEvent[],
  partition: number,
  arrivedAt = T,
  first = 0,
): Promise<void> {
  return store.insertEvents(
    events.map((event, offset) => ({
      event,
      raw: JSON.stringify(event),
      arrivedAt,
      position: { kind: 'kafka', name: 'callmon.events.v1', partition, offset: first + offset },
    })),
    {
      dedupToken: `kafka:callmon.events.v1:${partition}:${first}-${first + events.length - 1}`,
    },
  );
}

describe('Kafka live state: restored from the store on a force’s first events', () => {
  let test: TestStore;
  beforeAll(async () => {
    test = await openTestStore();
    await storeChunk(test.store, STORED, 0, T - DAY);
  });
  afterAll(() => test?.cleanup());

  it('the live figures after restore + new events equal a batch evaluation over both', async () => {
    let now = T;
    const { state, alerts } = liveStateAt(test.store, () => now);
    const fresh = [
      presented('northants', 'c4', T - 1_000),
      answered('northants', 'c1', T - 2 * DAY + 4_000),
    ];
    await state.apply(3, fresh.slice(0, 1), noWait);
    await state.apply(3, fresh.slice(1), noWait);
    const engine = state.live.engines.get('northants')!;
    expect(state.restoredForces).toBe(1);
    // Restoring published nothing: c3's breach was the previous owner's to announce.
    expect(alerts).toEqual([]);
    const all = [...STORED, ...fresh].filter((event) => event.force === 'northants');
    expect(engine.snapshot()).toEqual(
      rollingSnapshot(all, { force: 'northants', asOf: T, policy }),
    );
    // A repeat of a restored event changes nothing; the engine knows it already.
    expect(engine.stats().duplicates).toBe(1);

    // After the restore, breaches are this owner's: c4 rings past 10 s.
    now = T + 10_000;
    state.advance();
    expect(alerts.map((alert) => [alert.kind, alert.item])).toEqual([['breach', 'c4']]);
  });

  it('a breach brought by a force’s first chunk is published, though the chunk is stored already', async () => {
    const { state, alerts } = liveStateAt(test.store);
    // Presented 20 s before now: past its 10 s target by the time this member sees it.
    const late = presented('durham', 'd1', T - 20_000);
    await storeChunk(test.store, [late], 5);
    await state.apply(5, [late], noWait);
    // It fires when this member learns of it (engine time), against the deadline it missed.
    expect(alerts).toMatchObject([
      { kind: 'breach', item: 'd1', at: T, deadline: T - 20_000 + 10_000 },
    ]);
  });

  it('told where its chunk starts, a restore reads only what came before it, and the figures are the same', async () => {
    const asked: EventRange[] = [];
    const reads = new Proxy(test.store, {
      get(target, property) {
        if (property === 'readEvents') {
          return (range: EventRange) => {
            asked.push(range);
            return target.readEvents(range);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { state, alerts } = liveStateAt(reads);
    // Offsets 0–2 of partition 11 committed by the previous owner; 3–4 the chunk in hand
    // (stored already), and 5 a later chunk stored meanwhile.
    const before = [
      presented('dorset', 'o1', T - 3_600_000),
      answered('dorset', 'o1', T - 3_600_000 + 30_000), // breached, the previous owner's
      presented('dorset', 'o2', T - 120_000),
    ];
    const chunk = [answered('dorset', 'o2', T - 115_000), presented('dorset', 'o3', T - 20_000)];
    const later = [presented('dorset', 'o4', T - 5_000)];
    await storeChunk(test.store, before, 11, T - DAY, 0);
    await storeChunk(test.store, chunk, 11, T, 3);
    const noted = state.decided(later);
    await storeChunk(test.store, later, 11, T, 5);
    await state.apply(11, chunk, noWait, Promise.resolve(), {
      topic: 'callmon.events.v1',
      offset: 3,
      arrivedAt: T,
    });
    // The store was asked for what came before the chunk only.
    expect(asked).toEqual([
      {
        force: 'dorset',
        from: T - 7 * DAY - LIVE_LATENESS_MS,
        leaveOut: {
          kind: 'kafka',
          name: 'callmon.events.v1',
          partition: 11,
          fromOffset: 3,
          arrivedFrom: T,
        },
      },
    ]);
    expect(state.restoredEvents).toBe(3);
    // o2's answer and o3's breach (past its target) are this member's to publish; o1's
    // breach was the previous owner's.
    expect(alerts.map((alert) => [alert.kind, alert.item])).toEqual([
      ['cleared', 'o2'],
      ['breach', 'o3'],
    ]);
    await state.apply(11, later, noWait);
    state.settled(noted);
    expect(state.live.engines.get('dorset')!.snapshot()).toEqual(
      rollingSnapshot([...before, ...chunk, ...later], { force: 'dorset', asOf: T, policy }),
    );
  });

  it('copies an earlier run stored at the chunk’s offsets, which the chunk only re-reads, are restored', async () => {
    // A new group (or offsets reset) reads partition 12 from 0: offsets 0–1 were stored by
    // an earlier run a day ago, so this chunk decides them as re-reads and applies only
    // offset 2, new. The restore must bring in the other two.
    const { state } = liveStateAt(test.store);
    const earlier = [presented('gwynedd', 'w1', T - 60_000), answered('gwynedd', 'w1', T - 55_000)];
    const fresh = [presented('gwynedd', 'w2', T - 5_000)];
    await storeChunk(test.store, earlier, 12, T - DAY, 0);
    await storeChunk(test.store, fresh, 12, T, 2);
    await state.apply(12, fresh, noWait, Promise.resolve(), {
      topic: 'callmon.events.v1',
      offset: 0,
      arrivedAt: T,
    });
    expect(state.restoredEvents).toBe(2);
    expect(state.live.engines.get('gwynedd')!.snapshot()).toEqual(
      rollingSnapshot([...earlier, ...fresh], { force: 'gwynedd', asOf: T, policy }),
    );
  });

  it('a breach in the chunk after a force’s first is published, though that chunk was stored while the first restored', async () => {
    const { state, alerts } = liveStateAt(test.store);
    const first = [presented('gwent', 'g1', T - 5_000)];
    const second = [presented('gwent', 'g2', T - 20_000)]; // past its 10 s target already
    // Both chunks decided, then both written before the first one's restore reads.
    const noted = [state.decided(first), state.decided(second)];
    await storeChunk(test.store, [...first, ...second], 7);
    await state.apply(7, first, noWait);
    state.settled(noted[0]!);
    expect(alerts).toEqual([]);
    await state.apply(7, second, noWait);
    state.settled(noted[1]!);
    expect(alerts).toMatchObject([{ kind: 'breach', item: 'g2', at: T }]);
    // Nothing restored: both chunks applied as new.
    expect(state.restoredEvents).toBe(0);
    expect(state.live.engines.get('gwent')!.stats().accepted).toBe(2);
  });

  it('a chunk that failed after it was decided leaves its ids to the next restore', async () => {
    const { state } = liveStateAt(test.store);
    const failed = [presented('dyfed', 'p1', T - 5_000)];
    // Stored by this member before the chunk failed (its commit, say); the partition then
    // went to another member, which never applied it here.
    state.settled(state.decided(failed));
    await storeChunk(test.store, failed, 8);
    await state.apply(8, [presented('dyfed', 'p2', T - 1_000)], noWait);
    expect(state.restoredEvents).toBe(1);
    expect(state.live.engines.get('dyfed')!.stats().accepted).toBe(2);
  });

  it('a rebalance forgets the forces of partitions given away; they are restored if they return', async () => {
    const { state } = liveStateAt(test.store);
    await state.apply(1, [presented('cleveland', 'k2', T - 5_000)], noWait);
    await state.apply(2, [presented('northants', 'c5', T - 5_000)], noWait);
    expect([...state.live.engines.keys()].sort()).toEqual(['cleveland', 'northants']);

    state.assigned([2]);
    expect([...state.live.engines.keys()]).toEqual(['northants']);
    await state.apply(1, [answered('cleveland', 'k2', T - 1_000)], noWait);
    expect(state.restoredForces).toBe(3);
    // Restored again from what is stored (k1 only: k2's presentation was never stored).
    expect(state.live.engines.get('cleveland')!.stats().accepted).toBe(2);
  });

  it('liveFrom is the earliest time any engine here, or one restored later, still applies', async () => {
    let now = T;
    const { state } = liveStateAt(test.store, () => now);
    const horizon = (at: number) => at - 7 * DAY - LIVE_LATENESS_MS;
    expect(state.liveFrom()).toBe(horizon(T));
    await state.apply(0, [presented('cleveland', 'k9', T - 1_000)], noWait);
    // The clock moves on; the engine's own time moves only when advanced.
    now = T + DAY;
    expect(state.liveFrom()).toBe(horizon(T));
    const engine = state.live.engines.get('cleveland')!;
    const before = presented('cleveland', 'k8', state.liveFrom() - 1);
    const from = presented('cleveland', 'k7', state.liveFrom());
    expect(engine.apply(before)).toBe('beyond_horizon');
    expect(engine.apply(from)).toBe('accepted');
    state.advance();
    expect(state.liveFrom()).toBe(horizon(T + DAY));
  });

  it('a failing restore is retried through the given wait, then applies', async () => {
    let failures = 2;
    const store = Object.create(test.store) as typeof test.store;
    store.readEvents = (range) =>
      failures-- > 0 ? Promise.reject(new Error('store down')) : test.store.readEvents(range);
    const waits: number[] = [];
    const { state } = liveStateAt(store);
    await state.apply(0, [presented('cleveland', 'k9', T)], async (ms) => {
      waits.push(ms);
    });
    expect(waits).toEqual([250, 500]);
    expect(state.live.engines.get('cleveland')!.stats().accepted).toBe(2);
  });
});
