import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, recordsFromLines, type TestStore } from './testing.ts';

/** `EventRange.leaveOut`: a Kafka consumer restoring live state while it applies chunks itself. */
let own: TestStore;
beforeAll(async () => {
  own = await openTestStore();
});
afterAll(async () => {
  await own?.cleanup();
});

describe('readEvents leaving out a source partition', () => {
  it('leaves out what was read from one source partition from an offset on, first copies whole', async () => {
    const other = 'leave-out';
    const presented = (n: number) =>
      JSON.stringify({
        v: 1,
        id: `l${n}`,
        type: 'call.presented',
        force: other,
        at: new Date(Date.UTC(2024, 1, 20, 0, n)).toISOString(),
        call: `l${n}`,
        channel: '999',
      });
    const kafka = (name: string, partition: number, firstOffset: number) =>
      ({ kind: 'kafka', name, partition, firstOffset }) as const;
    const write = (lines: string[], at: ReturnType<typeof kafka>, arrivedAt: number) =>
      own.store.insertEvents(recordsFromLines(lines, at, arrivedAt), {
        dedupToken: `leave-out:${at.name}:${at.partition}:${at.firstOffset}`,
      });
    // This run (arriving from 5 000): topic t, partition 1, offsets 0–3: l0…l3; partition
    // 2: l4, l5; topic u, partition 1 at offset 7: l6; a later copy of l2 on partition 2
    // (its first copy stays on 1). An earlier run (arrived at 1 000): l7 at t/1 offset 8.
    await write([0, 1, 2, 3].map(presented), kafka('t', 1, 0), 5_000);
    await write([4, 5].map(presented), kafka('t', 2, 0), 5_000);
    await write([presented(6)], kafka('u', 1, 7), 5_000);
    await write([presented(2)], kafka('t', 2, 9), 6_000);
    await write([presented(7)], kafka('t', 1, 8), 1_000);
    const ids = async (fromOffset: number, arrivedFrom = 5_000) =>
      (
        await own.store.readEvents({
          force: other,
          leaveOut: { kind: 'kafka', name: 't', partition: 1, fromOffset, arrivedFrom },
        })
      ).map((event) => event.id);
    expect(await ids(2)).toEqual(['l0', 'l1', 'l4', 'l5', 'l6', 'l7']);
    expect(await ids(0)).toEqual(['l4', 'l5', 'l6', 'l7']);
    expect(await ids(4)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7']);
    // Only what arrived from `arrivedFrom` on is left out.
    expect(await ids(0, 1_000)).toEqual(['l4', 'l5', 'l6']);
    expect(await ids(0, 5_001)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7']);
  });
});
