import { describe, expect, it } from 'vitest';
import { buildRota, erlangC, handlersNeeded, serviceLevel } from './staffing.ts';

describe('Erlang C', () => {
  it('matches the closed form: 2 erlangs on 3 handlers wait with probability 4/9', () => {
    // P(wait) = (A^N/N!)·N/(N−A) / (Σ_{k<N} A^k/k! + (A^N/N!)·N/(N−A)) = 4 / (1+2+2+4)
    expect(erlangC(3, 2)).toBeCloseTo(4 / 9, 10);
  });

  it('one handler is an M/M/1 queue: P(wait) = utilisation', () => {
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7, 10);
  });

  it('an overloaded floor always waits, an idle one never', () => {
    expect(erlangC(3, 3)).toBe(1);
    expect(erlangC(3, 0)).toBe(0);
    expect(serviceLevel(3, 4, 300, 10)).toBe(0);
  });

  it('service level rises with handlers and with the wait allowed', () => {
    expect(serviceLevel(4, 2, 300, 10)).toBeGreaterThan(serviceLevel(3, 2, 300, 10));
    expect(serviceLevel(3, 2, 300, 60)).toBeGreaterThan(serviceLevel(3, 2, 300, 10));
  });

  it('handlersNeeded is the fewest that meet the target', () => {
    const n = handlersNeeded(40, 300, 10, 0.9);
    const erlangs = (40 * 300) / 3600;
    expect(serviceLevel(n, erlangs, 300, 10)).toBeGreaterThanOrEqual(0.9);
    expect(serviceLevel(n - 1, erlangs, 300, 10)).toBeLessThan(0.9);
  });
});

describe('rota', () => {
  const plan = {
    meanHandling999S: 300,
    meanHandling101S: 400,
    plan999: { waitS: 5, target: 0.8 },
    plan101: { waitS: 60, target: 0.5 },
    staffingFactor: 1,
    minimum999: 2,
    minimum101: 1,
  };
  const demand = { calls999PerYear: 135_000, calls101PerYear: 200_000 };

  it('puts more 101 handlers on in the day than at night, and never fewer than the minimum', () => {
    const rota = buildRota(demand, plan);
    expect(rota).toHaveLength(168);
    expect(rota[11]!.handlers101).toBeGreaterThan(rota[4]!.handlers101);
    for (const hour of rota) {
      expect(hour.handlers999).toBeGreaterThanOrEqual(2);
      expect(hour.handlers101).toBeGreaterThanOrEqual(1);
    }
  });

  it('a staffing factor below 1 takes handlers off the floor', () => {
    const full = buildRota(demand, plan);
    const short = buildRota(demand, { ...plan, staffingFactor: 0.7 });
    const total = (r: typeof full) => r.reduce((n, h) => n + h.handlers999 + h.handlers101, 0);
    expect(total(short)).toBeLessThan(total(full) * 0.8);
  });

  it('a larger force needs more handlers', () => {
    const total = (r: ReturnType<typeof buildRota>) => r.reduce((n, h) => n + h.handlers999, 0);
    expect(total(buildRota({ ...demand, calls999PerYear: 400_000 }, plan))).toBeGreaterThan(
      total(buildRota(demand, plan)) * 1.5,
    );
  });
});
