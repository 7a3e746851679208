import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WrittenIds } from './written-ids.ts';

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

  it('a force that has rows when first asked about is left to the engine', async () => {
    const written = new WrittenIds();
    expect(await written.tracks('f1', () => Promise.resolve(3))).toBe(false);
    expect(written.mayHave('f1', 'never-written')).toBe(true);
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
