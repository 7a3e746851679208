import type { LocalHour } from './calendar.ts';
import { type DemandSettings, plannedCallsPerHour } from './demand.ts';

/**
 * Erlang C: the probability that a call has to wait, for `agents` handlers and an
 * offered load of `erlangs` (arrival rate × mean handling time). Computed through the
 * Erlang B recursion, which is numerically stable.
 */
export function erlangC(agents: number, erlangs: number): number {
  if (erlangs <= 0) return 0;
  if (agents <= erlangs) return 1;
  let b = 1;
  for (let n = 1; n <= agents; n++) b = (erlangs * b) / (n + erlangs * b);
  return (agents * b) / (agents - erlangs * (1 - b));
}

/** Share of calls that wait no longer than `waitS` seconds (M/M/N, no abandonment). */
export function serviceLevel(
  agents: number,
  erlangs: number,
  meanHandlingS: number,
  waitS: number,
): number {
  if (agents <= erlangs) return 0;
  return 1 - erlangC(agents, erlangs) * Math.exp((-(agents - erlangs) * waitS) / meanHandlingS);
}

/** The fewest handlers that meet `target` share answered within `waitS` seconds. */
export function handlersNeeded(
  callsPerHour: number,
  meanHandlingS: number,
  waitS: number,
  target: number,
): number {
  const erlangs = (callsPerHour * meanHandlingS) / 3600;
  let agents = Math.max(1, Math.floor(erlangs) + 1);
  while (serviceLevel(agents, erlangs, meanHandlingS, waitS) < target) agents++;
  return agents;
}

export interface RotaSettings {
  /** Mean time a handler is busy with one call (talk and wrap-up), by channel, seconds. */
  meanHandling999S: number;
  meanHandling101S: number;
  /**
   * The planning standard the rota is built to: a share of calls waiting at most so
   * many seconds in the queue. The 999 wait is under 10 s because pick-up takes a few
   * seconds even when a handler is free.
   */
  plan999: { waitS: number; target: number };
  plan101: { waitS: number; target: number };
  /** Handlers actually on the floor over handlers planned (vacancies, sickness): 1 = full. */
  staffingFactor: number;
  /** Floor on each pool, whatever the demand: a control room is never empty. */
  minimum999: number;
  minimum101: number;
}

/** Handlers on duty for one local hour. */
export interface RotaHour {
  handlers999: number;
  handlers101: number;
}

/**
 * The staffing rota: handlers per local hour of the week, sized by Erlang C to the
 * demand the force plans for (the weekly profile without surges). The simulation then
 * meets the real demand, surges and all, with this rota: that is how queues form.
 */
export function buildRota(
  demand: Pick<DemandSettings, 'calls999PerYear' | 'calls101PerYear'>,
  settings: RotaSettings,
): RotaHour[] {
  const rota: RotaHour[] = [];
  for (let dayOfWeek = 0; dayOfWeek < 7; dayOfWeek++) {
    for (let hour = 0; hour < 24; hour++) {
      const local: LocalHour = { dayOfWeek, hour };
      const need999 = handlersNeeded(
        plannedCallsPerHour('999', local, demand),
        settings.meanHandling999S,
        settings.plan999.waitS,
        settings.plan999.target,
      );
      const need101 = handlersNeeded(
        plannedCallsPerHour('101', local, demand),
        settings.meanHandling101S,
        settings.plan101.waitS,
        settings.plan101.target,
      );
      rota.push({
        handlers999: Math.max(settings.minimum999, Math.round(need999 * settings.staffingFactor)),
        handlers101: Math.max(settings.minimum101, Math.round(need101 * settings.staffingFactor)),
      });
    }
  }
  return rota;
}

export function rotaAt(rota: readonly RotaHour[], local: LocalHour): RotaHour {
  return rota[local.dayOfWeek * 24 + local.hour]!;
}
