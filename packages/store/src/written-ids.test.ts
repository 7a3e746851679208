import { query as chdbQuery } from 'chdb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idHash, SEED_LIMIT, WrittenIds } from './written-ids.ts';

const none = () => Promise.resolve(0);

describe('WrittenIds: which ids of a force this process may have written', () => {
  it('every id written to a force found empty is reported as maybe written (no false negatives)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), {
          maxLength: 200,
        }),
        async (ids) => {
          const written = new WrittenIds();
          expect(await written.tracks('f1', none)).toBe(true);
          for (const id of ids) written.add('f1', id);
          for (const id of ids) expect(written.mayHave('f1', id)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('past one filter’s capacity, ids of every filter are still found and unknown ids mostly rule out', async () => {
    const written = new WrittenIds();
    await written.tracks('f1', none);
    const count = 1_200_000;
    for (let n = 0; n < count; n++) written.add('f1', `nor-${n}-p`);
    for (let n = 0; n < count; n += 997) expect(written.mayHave('f1', `nor-${n}-p`)).toBe(true);
    let positives = 0;
    for (let n = 0; n < 100_000; n++) if (written.mayHave('f1', `nor-${n}-x`)) positives++;
    // Three filters at ≈0.1 % each at capacity.
    expect(positives).toBeLessThan(1_000);
  });

  it('a force that has rows when first asked about, with no way to read their ids, is left to the engine', async () => {
    const written = new WrittenIds();
    expect(await written.tracks('f1', () => Promise.resolve(3))).toBe(false);
    expect(written.mayHave('f1', 'never-written')).toBe(true);
  });

  it('a force that has rows when first asked about is tracked from the hashes of its stored ids', async () => {
    const written = new WrittenIds();
    const stored = Array.from({ length: 50_000 }, (_, n) => `stored-${n}-é`);
    const hashes = Uint32Array.from(stored, idHash);
    expect(
      await written.tracks(
        'f1',
        () => Promise.resolve(stored.length),
        () => Promise.resolve(hashes),
      ),
    ).toBe(true);
    expect(stored.filter((id) => !written.mayHave('f1', id))).toEqual([]);
    written.add('f1', 'written-after');
    expect(written.mayHave('f1', 'written-after')).toBe(true);
    let positives = 0;
    for (let n = 0; n < 100_000; n++) if (written.mayHave('f1', `never-${n}`)) positives++;
    expect(positives).toBeLessThan(300);
  });

  it('a force past the seed limit is left to the engine, its ids never read', async () => {
    const written = new WrittenIds();
    let read = false;
    const tracked = await written.tracks(
      'f1',
      () => Promise.resolve(SEED_LIMIT + 1),
      () => {
        read = true;
        return Promise.resolve(new Uint32Array());
      },
    );
    expect(tracked).toBe(false);
    expect(read).toBe(false);
  });

  it('a write while the stored ids are read leaves the force to the engine', async () => {
    const written = new WrittenIds();
    let reading: () => void = () => {};
    const readStarted = new Promise<void>((resolve) => {
      reading = resolve;
    });
    let hashesRead: (hashes: Uint32Array) => void = () => {};
    const tracked = written.tracks(
      'f1',
      () => Promise.resolve(2),
      () =>
        new Promise<Uint32Array>((resolve) => {
          hashesRead = resolve;
          reading();
        }),
    );
    await readStarted;
    written.add('f1', 'raced');
    hashesRead(Uint32Array.from(['a', 'b'], idHash));
    expect(await tracked).toBe(false);
    expect(written.mayHave('f1', 'never-written')).toBe(true);
  });

  it("idHash is the engine's murmurHash3_32 of the id's UTF-8, for any text", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 50 }),
        async (ids) => {
          const hexes = ids.map(
            (id) => `murmurHash3_32(unhex('${Buffer.from(id).toString('hex')}'))`,
          );
          const result = await chdbQuery(`SELECT [${hexes.join(', ')}] AS hashes`, 'JSONEachRow');
          const { hashes } = JSON.parse(result) as { hashes: number[] };
          expect(ids.map(idHash)).toEqual(hashes);
        },
      ),
      { numRuns: 50 },
    );
    // An unpaired surrogate is hashed as the store writes it: U+FFFD.
    expect(idHash('a\ud800b')).toBe(idHash('a\ufffdb'));
  });

  it('a force written before it was asked about is left to the engine', async () => {
    const written = new WrittenIds();
    written.add('f1', 'a');
    let asked = false;
    expect(
      await written.tracks('f1', () => {
        asked = true;
        return Promise.resolve(0);
      }),
    ).toBe(false);
    expect(asked).toBe(false);
    expect(written.mayHave('f1', 'never-written')).toBe(true);
  });

  it('a write while the first question is pending leaves the force to the engine', async () => {
    const written = new WrittenIds();
    let answer: (rows: number) => void = () => {};
    const tracked = written.tracks(
      'f1',
      () => new Promise<number>((resolve) => (answer = resolve)),
    );
    written.add('f1', 'a');
    // The count may or may not have seen that write: 0 proves nothing.
    answer(0);
    expect(await tracked).toBe(false);
    expect(written.mayHave('f1', 'never-written')).toBe(true);
  });

  it('a failed first question is asked again next time', async () => {
    const written = new WrittenIds();
    await expect(
      written.tracks('f1', () => Promise.reject(new Error('engine busy'))),
    ).rejects.toThrow('engine busy');
    expect(await written.tracks('f1', none)).toBe(true);
  });

  it('questions asked together wait for the first one’s answer instead of asking again', async () => {
    const written = new WrittenIds();
    let asked = 0;
    let answer: (rows: number) => void = () => {};
    const countRows = () => {
      asked++;
      return new Promise<number>((resolve) => (answer = resolve));
    };
    const first = written.tracks('f1', countRows);
    const second = written.tracks('f1', countRows);
    const third = written.tracks('f1', countRows);
    answer(0);
    expect(await Promise.all([first, second, third])).toEqual([true, true, true]);
    expect(asked).toBe(1);
  });

  it('when the first of questions asked together fails, the next asks again', async () => {
    const written = new WrittenIds();
    let asked = 0;
    const first = written.tracks('f1', () => {
      asked++;
      return Promise.reject(new Error('engine busy'));
    });
    const second = written.tracks('f1', () => {
      asked++;
      return Promise.resolve(0);
    });
    await expect(first).rejects.toThrow('engine busy');
    expect(await second).toBe(true);
    expect(asked).toBe(2);
  });

  it('forces are tracked separately', async () => {
    const written = new WrittenIds();
    await written.tracks('f1', none);
    await written.tracks('f2', none);
    written.add('f1', 'a');
    expect(written.mayHave('f1', 'a')).toBe(true);
    expect(written.mayHave('f2', 'a')).toBe(false);
  });
});
