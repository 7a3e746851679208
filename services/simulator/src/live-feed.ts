import { formatUtc } from '@callmon/events';
import {
  resolveOptions,
  type SimulatedLine,
  type SimulateOptions,
  SimulatorOptionError,
  simulate,
} from './simulate.ts';

/** Where the live feed takes time from: the real clock, or a stepped one in tests. */
export interface Clock {
  /** UTC milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface LiveFeedOptions extends SimulateOptions {
  /** Simulated time per real time: 1 = real time, 60 = a simulated minute per second. */
  speed: number;
  clock?: Clock;
}

/**
 * The simulation paced to a clock: each line is yielded when the clock reaches its
 * delivery time, scaled by `speed` from the moment iteration starts. Unlike
 * `simulate`, the start defaults to the clock's now (events are dated "live") and the
 * feed runs forever unless `days` is given. Lines already due are yielded without
 * waiting, so a slow consumer catches up rather than drifting.
 */
export function liveFeed(options: LiveFeedOptions): AsyncIterable<SimulatedLine> {
  const { speed, clock = systemClock, ...rest } = options;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0) {
    throw new SimulatorOptionError(`speed must be a positive number, got ${String(speed)}`);
  }
  const simulation: SimulateOptions = {
    ...rest,
    start: rest.start ?? formatUtc(Math.floor(clock.now())),
    days: rest.days ?? Number.POSITIVE_INFINITY,
  };
  // Throws for bad options now, not at the first `next()`.
  const simulatedStart = resolveOptions(simulation).start;
  const lines = simulate(simulation);
  return {
    async *[Symbol.asyncIterator]() {
      const realStart = clock.now();
      for (const line of lines) {
        const due = realStart + (line.deliverAt - simulatedStart) / speed;
        const wait = due - clock.now();
        if (wait > 0) await clock.sleep(wait);
        yield line;
      }
    },
  };
}
