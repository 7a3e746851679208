/**
 * Test fixtures built from the event contract: every event is a JSON line through the
 * real `parseEvent`, so fixtures cannot drift from docs/events.md. Test support only;
 * not exported from the package.
 */
import { type CallmonEvent, type EventType, parseEvent } from '@callmon/events';

export const FORCE = 'northants';
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Tuesday of ISO week 2024-W08; February is GMT, so London local time is UTC. */
export const T0 = Date.parse('2024-02-20T10:00:00.000Z');

let serial = 0;

/** One event as a control room sends it: a JSON line through `parseEvent`. */
export function wire(type: EventType, at: number, fields: Record<string, unknown>): CallmonEvent {
  const line = JSON.stringify({
    v: 1,
    id: `ev-${++serial}`,
    type,
    force: FORCE,
    ...fields,
    at: new Date(at).toISOString(),
  });
  const parsed = parseEvent(line);
  if (!parsed.ok) throw new Error(`fixture breaks the contract (${parsed.detail}): ${line}`);
  return parsed.event;
}

type Extra = Record<string, unknown>;
type Channel = '999' | '101';
type Area = 'urban' | 'rural';

export const presented = (call: string, at: number, channel: Channel = '999', extra: Extra = {}) =>
  wire('call.presented', at, { call, channel, ...extra });
export const answered = (call: string, at: number, extra: Extra = {}) =>
  wire('call.answered', at, { call, ...extra });
export const abandoned = (call: string, at: number, extra: Extra = {}) =>
  wire('call.abandoned', at, { call, ...extra });
export const opened = (
  incident: string,
  at: number,
  grade: number,
  area: Area = 'urban',
  extra: Extra = {},
) => wire('incident.opened', at, { incident, grade, area, ...extra });
export const regraded = (incident: string, at: number, grade: number, extra: Extra = {}) =>
  wire('incident.regraded', at, { incident, grade, ...extra });
export const arrived = (incident: string, at: number) =>
  wire('unit.arrived', at, { incident, unit: 'NR12' });
export const updated = (incident: string, at: number) => wire('victim.updated', at, { incident });
