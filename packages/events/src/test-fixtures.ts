/**
 * Wire-form events for the tests, written from docs/events.md rather than derived from
 * the schemas, so the tests check the schemas against the contract and not themselves.
 */
import type { EventType } from './schema.ts';

export type WireObject = Record<string, unknown>;

const envelope = { v: 1, force: 'northants', at: '2024-02-19T21:04:05.123Z' };

/** The smallest valid event of each type: the envelope plus its required fields. */
export const minimalEvents: Record<EventType, WireObject> = {
  'call.presented': {
    ...envelope,
    id: 'nth-000123-p',
    type: 'call.presented',
    call: 'nth-000123',
    channel: '999',
  },
  'call.answered': { ...envelope, id: 'nth-000123-a', type: 'call.answered', call: 'nth-000123' },
  'call.abandoned': { ...envelope, id: 'nth-000124-x', type: 'call.abandoned', call: 'nth-000124' },
  'call.closed': { ...envelope, id: 'nth-000123-c', type: 'call.closed', call: 'nth-000123' },
  'incident.opened': {
    ...envelope,
    id: 'nth-i-5531-o',
    type: 'incident.opened',
    incident: 'nth-i-5531',
    grade: 1,
    area: 'urban',
  },
  'incident.regraded': {
    ...envelope,
    id: 'nth-i-5531-g',
    type: 'incident.regraded',
    incident: 'nth-i-5531',
    grade: 2,
  },
  'unit.dispatched': {
    ...envelope,
    id: 'nth-i-5531-d1',
    type: 'unit.dispatched',
    incident: 'nth-i-5531',
    unit: 'NR12',
  },
  'unit.arrived': {
    ...envelope,
    id: 'nth-i-5531-r1',
    type: 'unit.arrived',
    incident: 'nth-i-5531',
    unit: 'NR12',
  },
  'victim.updated': {
    ...envelope,
    id: 'nth-i-5531-u1',
    type: 'victim.updated',
    incident: 'nth-i-5531',
  },
  'incident.closed': {
    ...envelope,
    id: 'nth-i-5531-c',
    type: 'incident.closed',
    incident: 'nth-i-5531',
  },
};

/** Each type's required fields, as the tables of events.md list them. */
export const requiredFields: Record<EventType, string[]> = {
  'call.presented': ['v', 'id', 'type', 'force', 'at', 'call', 'channel'],
  'call.answered': ['v', 'id', 'type', 'force', 'at', 'call'],
  'call.abandoned': ['v', 'id', 'type', 'force', 'at', 'call'],
  'call.closed': ['v', 'id', 'type', 'force', 'at', 'call'],
  'incident.opened': ['v', 'id', 'type', 'force', 'at', 'incident', 'grade', 'area'],
  'incident.regraded': ['v', 'id', 'type', 'force', 'at', 'incident', 'grade'],
  'unit.dispatched': ['v', 'id', 'type', 'force', 'at', 'incident', 'unit'],
  'unit.arrived': ['v', 'id', 'type', 'force', 'at', 'incident', 'unit'],
  'victim.updated': ['v', 'id', 'type', 'force', 'at', 'incident'],
  'incident.closed': ['v', 'id', 'type', 'force', 'at', 'incident'],
};

/** Each type's optional fields with a valid value. */
export const optionalFields: Record<EventType, WireObject> = {
  'call.presented': { source: 'iccs', queue: 'q-emergency' },
  'call.answered': { source: 'iccs', handler: 'h17' },
  'call.abandoned': { source: 'iccs' },
  'call.closed': { source: 'iccs' },
  'incident.opened': { source: 'cad', call: 'nth-000123', district: 'north' },
  'incident.regraded': { source: 'cad' },
  'unit.dispatched': { source: 'cad' },
  'unit.arrived': { source: 'cad' },
  'victim.updated': { source: 'cad' },
  'incident.closed': { source: 'cad' },
};

/** Every event type with all of its fields, required and optional. */
export const fullEvents = Object.fromEntries(
  Object.entries(minimalEvents).map(([type, event]) => [
    type,
    { ...event, ...optionalFields[type as EventType] },
  ]),
) as Record<EventType, WireObject>;

/** The 10 types in the order of events.md. */
export const contractTypes = Object.keys(minimalEvents) as EventType[];

export function line(event: WireObject): string {
  return JSON.stringify(event);
}

export function without(event: WireObject, field: string): WireObject {
  const { [field]: _dropped, ...rest } = event;
  return rest;
}
