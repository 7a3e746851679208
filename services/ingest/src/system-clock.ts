import type { Clock } from '@callmon/compliance';

/** The wall clock, for services only; domain code takes time as a parameter. */
export const systemClock: Clock = { now: () => Date.now() };
