import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from './store.ts';
import { generateEvents, openTestStore, type TestStore, toWire } from './testing.ts';

let test: TestStore;

beforeAll(async () => {
  test = await openTestStore();
});

afterAll(async () => {
  await test?.cleanup();
});

const force = 'durable';
const events = [...generateEvents({ force, start: Date.UTC(2024, 5, 1), count: 5_000, seed: 7 })];

describe('durability', () => {
  it('what was inserted is still there after the store is closed and opened again', async () => {
    await test.store.insertEvents(
      events.map((event, index) => ({
        event,
        raw: JSON.stringify(toWire(event)),
        arrivedAt: Date.UTC(2024, 5, 2),
        position: { kind: 'simulator', name: 'seed-7', partition: 0, offset: index },
      })),
      { dedupToken: 'simulator:seed-7:0-4999' },
    );
    await test.store.insertRejected(
      [
        {
          raw: '{',
          reason: 'invalid_json',
          detail: 'unexpected end',
          arrivedAt: 1,
          position: { kind: 'simulator', name: 'seed-7', partition: 0, offset: 5_000 },
        },
      ],
      { dedupToken: 'simulator:seed-7:5000' },
    );
    await test.store.close();

    test.store = await openStore(test.options);
    expect(await test.store.migrate()).toEqual([]);
    expect(await test.store.countEvents({ force })).toBe(events.length);
    const stored = await test.store.readEvents({ force });
    const expected = [...events].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
    expect(stored).toEqual(expected);
    expect(await test.store.countRejected()).toEqual(new Map([['invalid_json', 1]]));
  });

  it('a closed store refuses work instead of touching a released engine', async () => {
    const store = test.store;
    await store.close();
    await store.close(); // closing twice is harmless
    await expect(store.countEvents()).rejects.toThrow(/closed/);
    test.store = await openStore(test.options);
  });

  it('close waits for operations already running', async () => {
    const store = test.store;
    const counting = store.countEvents({ force });
    await store.close();
    await expect(counting).resolves.toBe(events.length);
    test.store = await openStore(test.options);
  });

  it.skipIf(process.env.CLICKHOUSE_URL !== undefined)(
    'a second embedded store in the same process is refused: chDB binds one folder per process',
    async () => {
      await expect(
        openStore({ dataDir: `${'dataDir' in test.options ? test.options.dataDir : ''}-other` }),
      ).rejects.toThrow(/already open/);
      await expect(openStore(test.options)).rejects.toThrow(/already open/);
    },
  );
});
