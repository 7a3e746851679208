import { describe, expect, it } from 'vitest';
import { Rng } from './prng.ts';

const draws = (rng: Rng, n: number, draw: (r: Rng) => number) =>
  Array.from({ length: n }, () => draw(rng));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('Rng', () => {
  it('the same seed and stream give the same sequence', () => {
    expect(draws(new Rng(123, 2), 50, (r) => r.uint32())).toEqual(
      draws(new Rng(123, 2), 50, (r) => r.uint32()),
    );
  });

  it('different seeds, or different streams of one seed, give different sequences', () => {
    const a = draws(new Rng(123, 0), 20, (r) => r.uint32());
    expect(draws(new Rng(124, 0), 20, (r) => r.uint32())).not.toEqual(a);
    expect(draws(new Rng(123, 1), 20, (r) => r.uint32())).not.toEqual(a);
  });

  it('next() is uniform on [0, 1): in range, mean ½, each tenth about equally often', () => {
    const xs = draws(new Rng(1), 100_000, (r) => r.next());
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(mean(xs)).toBeCloseTo(0.5, 2);
    const deciles = new Array(10).fill(0);
    for (const x of xs) deciles[Math.floor(x * 10)]++;
    for (const d of deciles) expect(Math.abs(d - 10_000)).toBeLessThan(500);
  });

  it('int(min, max) covers both ends and nothing outside', () => {
    const xs = new Set(draws(new Rng(2), 10_000, (r) => r.int(3, 7)));
    expect([...xs].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('exponential(mean) has that mean', () => {
    expect(mean(draws(new Rng(3), 100_000, (r) => r.exponential(40)))).toBeGreaterThan(39);
    expect(mean(draws(new Rng(3), 100_000, (r) => r.exponential(40)))).toBeLessThan(41);
  });

  it('normal() has mean 0 and variance 1', () => {
    const xs = draws(new Rng(4), 100_000, (r) => r.normal());
    expect(Math.abs(mean(xs))).toBeLessThan(0.02);
    expect(mean(xs.map((x) => x * x))).toBeCloseTo(1, 1);
  });

  it('logNormal(median, σ) has that median and mean median·e^(σ²/2)', () => {
    const xs = draws(new Rng(5), 200_000, (r) => r.logNormal(180, 0.6));
    expect(Math.abs(median(xs) / 180 - 1)).toBeLessThan(0.02);
    expect(Math.abs(mean(xs) / (180 * Math.exp(0.18)) - 1)).toBeLessThan(0.02);
  });

  it('poisson(mean) has that mean', () => {
    expect(mean(draws(new Rng(6), 50_000, (r) => r.poisson(0.6)))).toBeCloseTo(0.6, 1);
  });

  it('weighted() picks indices in proportion to the weights', () => {
    const counts = [0, 0, 0];
    for (const i of draws(new Rng(7), 60_000, (r) => r.weighted([1, 2, 3]))) counts[i]!++;
    expect(counts[0]! / 60_000).toBeCloseTo(1 / 6, 2);
    expect(counts[2]! / 60_000).toBeCloseTo(3 / 6, 2);
  });
});
