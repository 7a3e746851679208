import { describe, expect, it } from 'vitest';
import { type Clock, liveFeed } from './live-feed.ts';
import { simulate } from './simulate.ts';

/** A clock that only moves when someone sleeps on it, and records each sleep. */
function steppedClock(startMs: number): Clock & { sleeps: number[] } {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const options = { seed: 3, start: '2024-02-19T08:00:00Z', days: 1 / 24 } as const;
const simulatedStart = Date.parse(options.start);

describe('liveFeed', () => {
  it('at speed 60 yields each line when the clock reaches start + (deliverAt − simulated start) / 60', async () => {
    const realStart = Date.parse('2030-01-01T00:00:00Z');
    const clock = steppedClock(realStart);
    let yielded = 0;
    let last = simulatedStart;
    for await (const line of liveFeed({ ...options, speed: 60, clock })) {
      last = line.deliverAt;
      const due = realStart + (line.deliverAt - simulatedStart) / 60;
      // Never early; never later than the last sleep ended (which is when it became due).
      expect(clock.now()).toBeGreaterThanOrEqual(due - 1e-6);
      expect(clock.now() - due).toBeLessThan(1e-6 + 1);
      yielded++;
    }
    expect(yielded).toBeGreaterThan(100);
    // A simulated hour is a minute of clock time: the run (calls in one hour, then their
    // incidents' follow-ups for up to two days) takes 1/60 of its simulated span.
    expect(clock.now() - realStart).toBeCloseTo((last - simulatedStart) / 60, 3);
    expect(last - simulatedStart).toBeGreaterThan(3_600_000);
  });

  it('yields the same lines as simulate, only paced', async () => {
    const clock = steppedClock(0);
    const lines = [];
    for await (const line of liveFeed({ ...options, speed: 1000, clock })) lines.push(line);
    expect(lines).toEqual([...simulate(options)]);
  });

  it('at speed 1 waits in real-time steps: the sleeps add up to the simulated span', async () => {
    const clock = steppedClock(1_000_000);
    let last = 0;
    for await (const line of liveFeed({ ...options, days: 0.01, speed: 1, clock }))
      last = line.deliverAt;
    const slept = clock.sleeps.reduce((a, b) => a + b, 0);
    expect(slept).toBeCloseTo(last - simulatedStart, 3);
    for (const ms of clock.sleeps) expect(ms).toBeGreaterThan(0);
  });

  it('without a start, the feed starts at the clock’s now and runs on', async () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    const clock = steppedClock(now);
    const lines = [];
    for await (const line of liveFeed({ speed: 3600, clock })) {
      lines.push(line);
      if (lines.length === 2000) break;
    }
    expect(lines).toHaveLength(2000);
    expect(lines[0]!.deliverAt).toBeGreaterThanOrEqual(now);
    expect(lines[0]!.deliverAt).toBeLessThan(now + 3_600_000);
  });

  it('refuses a speed that is not a positive number', () => {
    expect(() => liveFeed({ speed: 0 })).toThrow(/speed/);
    expect(() => liveFeed({ speed: Number.NaN })).toThrow(/speed/);
    expect(() => liveFeed({ speed: 1, scenario: 'nope' as 'normal' })).toThrow(/valid scenarios/);
  });
});
