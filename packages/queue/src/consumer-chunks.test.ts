import { describe, expect, it } from 'vitest';
import { offsetAlignedChunks } from './consumer-chunks.ts';

const at = (...offsets: number[]) => offsets.map((offset) => ({ offset: String(offset) }));
const offsetsOf = (chunks: { offset: string }[][]) =>
  chunks.map((chunk) => chunk.map((message) => Number(message.offset)));

describe('offset-aligned chunks', () => {
  it('cut at multiples of the size, wherever the fetch started', () => {
    expect(offsetsOf(offsetAlignedChunks(at(3, 4, 5, 6, 7, 8, 9), 4))).toEqual([
      [3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it('the same offsets make the same chunks in two differently cut fetches', () => {
    const first = [
      ...offsetAlignedChunks(at(10, 11, 12, 13, 14), 5),
      ...offsetAlignedChunks(at(15, 16, 17, 18, 19, 20), 5),
    ];
    const second = [
      ...offsetAlignedChunks(at(10, 11, 12), 5),
      ...offsetAlignedChunks(at(13, 14, 15, 16, 17, 18, 19, 20), 5),
    ];
    // Only the chunk the first fetch ended inside ([10, 11, 12]) differs.
    expect(offsetsOf(first).slice(1)).toEqual(offsetsOf(second).slice(2));
    expect(offsetsOf(second)).toEqual([[10, 11, 12], [13, 14], [15, 16, 17, 18, 19], [20]]);
  });

  it('gaps in the offsets (compaction, transaction markers) stay inside their slot', () => {
    expect(offsetsOf(offsetAlignedChunks(at(0, 2, 9, 10, 25), 10))).toEqual([
      [0, 2, 9],
      [10],
      [25],
    ]);
  });

  it('nothing fetched, no chunk; a bad size is refused', () => {
    expect(offsetAlignedChunks([], 10)).toEqual([]);
    expect(() => offsetAlignedChunks(at(1), 0)).toThrow(/positive integer/);
  });
});
