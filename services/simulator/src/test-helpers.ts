/**
 * Test support: runs the simulator and reads its output back through the contract's own
 * parser, then derives calls and incidents the way docs/metrics.md defines them. Written
 * against the wire lines only, never the simulator's internals, so the tests check what
 * a consumer would see.
 */
import { type CallmonEvent, parseEvent } from '@callmon/events';
import { type SimulatedLine, type SimulateOptions, simulate } from './simulate.ts';

const cache = new Map<string, SimulatedLine[]>();

/** The lines of one run, memoised: several tests look at the same week. */
export function linesOf(options: SimulateOptions): SimulatedLine[] {
  const key = JSON.stringify(options);
  let lines = cache.get(key);
  if (lines === undefined) {
    lines = [...simulate(options)];
    cache.set(key, lines);
  }
  return lines;
}

const parsed = new WeakMap<readonly SimulatedLine[], CallmonEvent[]>();

/** The lines' events; throws on the first line the contract rejects. */
export function eventsOf(lines: readonly SimulatedLine[]): CallmonEvent[] {
  let events = parsed.get(lines);
  if (events === undefined) {
    events = lines.map(({ line }) => {
      const result = parseEvent(line);
      if (!result.ok) throw new Error(`rejected (${result.reason}: ${result.detail}): ${line}`);
      return result.event;
    });
    parsed.set(lines, events);
  }
  return events;
}

export interface CallFacts {
  call: string;
  channel: '999' | '101';
  presentedAt: number;
  answeredAt?: number;
  abandonedAt?: number;
  closedAt?: number;
}

export interface IncidentFacts {
  incident: string;
  call?: string;
  openedAt: number;
  area: 'urban' | 'rural';
  /** Grades in event-time order, the opening grade first. */
  grades: { at: number; grade: number }[];
  dispatchedAt: number[];
  arrivedAt: number[];
  updatedAt: number[];
  closedAt?: number;
}

export function callsOf(events: readonly CallmonEvent[]): Map<string, CallFacts> {
  const calls = new Map<string, CallFacts>();
  for (const e of events) {
    if (e.type === 'call.presented') {
      calls.set(e.call, { call: e.call, channel: e.channel, presentedAt: e.at });
    }
  }
  for (const e of events) {
    if (!e.type.startsWith('call.') || e.type === 'call.presented') continue;
    const c = calls.get((e as { call: string }).call);
    if (c === undefined) throw new Error(`${e.type} ${e.id} for a call never presented`);
    if (e.type === 'call.answered') c.answeredAt = e.at;
    if (e.type === 'call.abandoned') c.abandonedAt = e.at;
    if (e.type === 'call.closed') c.closedAt = e.at;
  }
  return calls;
}

export function incidentsOf(events: readonly CallmonEvent[]): Map<string, IncidentFacts> {
  const incidents = new Map<string, IncidentFacts>();
  for (const e of events) {
    if (e.type === 'incident.opened') {
      incidents.set(e.incident, {
        incident: e.incident,
        call: e.call,
        openedAt: e.at,
        area: e.area,
        grades: [{ at: e.at, grade: e.grade }],
        dispatchedAt: [],
        arrivedAt: [],
        updatedAt: [],
      });
    }
  }
  for (const e of events) {
    if (!('incident' in e) || e.type === 'incident.opened') continue;
    const i = incidents.get(e.incident);
    if (i === undefined) throw new Error(`${e.type} ${e.id} for an incident never opened`);
    if (e.type === 'incident.regraded') i.grades.push({ at: e.at, grade: e.grade });
    if (e.type === 'unit.dispatched') i.dispatchedAt.push(e.at);
    if (e.type === 'unit.arrived') i.arrivedAt.push(e.at);
    if (e.type === 'victim.updated') i.updatedAt.push(e.at);
    if (e.type === 'incident.closed') i.closedAt = e.at;
  }
  for (const i of incidents.values()) i.grades.sort((a, b) => a.at - b.at);
  return incidents;
}

/** Share of answered 999 calls answered within 10 s (docs/metrics.md §2, `within`). */
export function share999Within10s(calls: Iterable<CallFacts>): number {
  let answered = 0;
  let within = 0;
  for (const c of calls) {
    if (c.channel !== '999' || c.answeredAt === undefined) continue;
    answered++;
    if (c.answeredAt - c.presentedAt <= 10_000) within++;
  }
  return within / answered;
}

export function firstArrival(i: IncidentFacts): number {
  return i.arrivedAt.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...i.arrivedAt);
}

/** Grade at the first arrival (or the last grade if none): metrics.md §3's effective grade. */
export function effectiveGrade(i: IncidentFacts): number {
  const until = firstArrival(i);
  let grade = i.grades[0]!.grade;
  for (const g of i.grades) if (g.at <= until) grade = g.grade;
  return grade;
}

export function count<T>(items: Iterable<T>, predicate: (item: T) => boolean): number {
  let n = 0;
  for (const item of items) if (predicate(item)) n++;
  return n;
}
