import { z } from 'zod';
import { EVENT_TIME_PATTERN, parseEventTime } from './event-time.ts';

/** The one contract version this build accepts (events.md: any other `v` is rejected). */
export const CONTRACT_VERSION = 1;

/** Identifiers and labels: strings of 1–128 characters (events.md, Envelope). */
/** A UTF-16 surrogate without its partner: valid in a JSON escape, not in UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const label = z
  .string({ error: 'expected a string of 1–128 characters' })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // Stored as UTF-8, a lone surrogate would become U+FFFD and two ids could collide.
  .refine(
    (text) => !LONE_SURROGATE.test(text),
    'must be valid Unicode (a lone surrogate escape was found)',
  );

export const forceCode = z
  .string({ error: 'expected a force code string' })
  .regex(/^[a-z0-9][a-z0-9-]{1,31}$/, 'expected a force code matching ^[a-z0-9][a-z0-9-]{1,31}$')
  .meta({ description: 'force code: 2–32 of a-z, 0-9 and -, not starting with -' });

/** `at`: RFC 3339 with explicit zone on the wire, UTC milliseconds once parsed. */
export const eventTime = z
  .string({ error: 'expected an RFC 3339 date-time string' })
  .transform((text, ctx) => {
    const parsed = parseEventTime(text);
    if (!parsed.ok) {
      ctx.addIssue({ code: 'custom', message: parsed.detail });
      return z.NEVER;
    }
    return parsed.ms;
  })
  .meta({
    description:
      'RFC 3339 date-time with an explicit zone (Z or ±hh:mm), millisecond precision or coarser',
    format: 'date-time',
    pattern: EVENT_TIME_PATTERN,
  });

export const channel = z
  .enum(['999', '101'], { error: 'expected "999" or "101" (a string)' })
  .meta({ description: 'the number the caller dialled, as a string' });
export const grade = z
  .number({ error: 'expected an integer grade from 1 to 4' })
  .int('expected an integer grade from 1 to 4')
  .min(1, 'expected an integer grade from 1 to 4')
  .max(4, 'expected an integer grade from 1 to 4')
  .meta({ description: '1 immediate, 2 priority, 3 scheduled, 4 resolved without deployment' });
export const area = z
  .enum(['urban', 'rural'], { error: 'expected "urban" or "rural"' })
  .meta({ description: 'urban or rural: selects the attendance target' });

const envelope = {
  v: z.literal(CONTRACT_VERSION).meta({ description: 'contract version' }),
  id: label.meta({ description: 'event id, unique per force: the idempotency key' }),
  force: forceCode,
  at: eventTime,
  source: label.meta({ description: 'emitting system, e.g. iccs, cad, sim' }).optional(),
};

const callId = label.meta({ description: 'call id, the same on every event of one call' });
const incidentId = label.meta({
  description: 'incident id, the same on every event of one incident',
});
const unitId = label.meta({ description: 'resource (unit) id' });

export const callPresented = z
  .object({
    ...envelope,
    type: z.literal('call.presented'),
    call: callId,
    channel,
    queue: label.meta({ description: 'call-handling queue' }).optional(),
  })
  .meta({
    title: 'call.presented',
    description:
      'The call is offered to the force’s call-handling queue (for 999, stage 2). The answer clock starts here.',
  });
export const callAnswered = z
  .object({
    ...envelope,
    type: z.literal('call.answered'),
    call: callId,
    handler: label.meta({ description: 'call handler who answered' }).optional(),
  })
  .meta({ title: 'call.answered', description: 'A call handler answers.' });
export const callAbandoned = z
  .object({
    ...envelope,
    type: z.literal('call.abandoned'),
    call: callId,
  })
  .meta({ title: 'call.abandoned', description: 'The caller hangs up before an answer.' });
export const callClosed = z
  .object({ ...envelope, type: z.literal('call.closed'), call: callId })
  .meta({ title: 'call.closed', description: 'The call ends (informational).' });

export const incidentOpened = z
  .object({
    ...envelope,
    type: z.literal('incident.opened'),
    incident: incidentId,
    grade,
    area,
    call: callId.meta({ description: 'the call that led to this incident' }).optional(),
    district: label.meta({ description: 'district or sector' }).optional(),
  })
  .meta({
    title: 'incident.opened',
    description: 'An incident record is created and graded. The attendance clock starts here.',
  });
export const incidentRegraded = z
  .object({
    ...envelope,
    type: z.literal('incident.regraded'),
    incident: incidentId,
    grade,
  })
  .meta({ title: 'incident.regraded', description: 'The incident’s grade changes.' });
export const unitDispatched = z
  .object({
    ...envelope,
    type: z.literal('unit.dispatched'),
    incident: incidentId,
    unit: unitId,
  })
  .meta({ title: 'unit.dispatched', description: 'A resource is assigned to the incident.' });
export const unitArrived = z
  .object({
    ...envelope,
    type: z.literal('unit.arrived'),
    incident: incidentId,
    unit: unitId,
  })
  .meta({
    title: 'unit.arrived',
    description: 'A resource arrives at the scene. The first arrival stops the attendance clock.',
  });
export const victimUpdated = z
  .object({
    ...envelope,
    type: z.literal('victim.updated'),
    incident: incidentId,
  })
  .meta({
    title: 'victim.updated',
    description: 'The caller or victim is contacted and told about progress or delay.',
  });
export const incidentClosed = z
  .object({
    ...envelope,
    type: z.literal('incident.closed'),
    incident: incidentId,
  })
  .meta({ title: 'incident.closed', description: 'The incident is closed (informational).' });

/** Every event type of contract v1, keyed by its `type` string. */
export const eventSchemas = {
  'call.presented': callPresented,
  'call.answered': callAnswered,
  'call.abandoned': callAbandoned,
  'call.closed': callClosed,
  'incident.opened': incidentOpened,
  'incident.regraded': incidentRegraded,
  'unit.dispatched': unitDispatched,
  'unit.arrived': unitArrived,
  'victim.updated': victimUpdated,
  'incident.closed': incidentClosed,
} as const;

export type EventType = keyof typeof eventSchemas;
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

export const callmonEvent = z.discriminatedUnion('type', [
  callPresented,
  callAnswered,
  callAbandoned,
  callClosed,
  incidentOpened,
  incidentRegraded,
  unitDispatched,
  unitArrived,
  victimUpdated,
  incidentClosed,
]);

/** A parsed, accepted event: `at` is UTC milliseconds; unknown fields are dropped. */
export type CallmonEvent = z.output<typeof callmonEvent>;
/** The event as it travels on the wire (`at` a string). */
export type CallmonEventWire = z.input<typeof callmonEvent>;

export type CallPresented = z.output<typeof callPresented>;
export type CallAnswered = z.output<typeof callAnswered>;
export type CallAbandoned = z.output<typeof callAbandoned>;
export type CallClosed = z.output<typeof callClosed>;
export type IncidentOpened = z.output<typeof incidentOpened>;
export type IncidentRegraded = z.output<typeof incidentRegraded>;
export type UnitDispatched = z.output<typeof unitDispatched>;
export type UnitArrived = z.output<typeof unitArrived>;
export type VictimUpdated = z.output<typeof victimUpdated>;
export type IncidentClosed = z.output<typeof incidentClosed>;

export type CallEvent = CallPresented | CallAnswered | CallAbandoned | CallClosed;
export type IncidentEvent =
  | IncidentOpened
  | IncidentRegraded
  | UnitDispatched
  | UnitArrived
  | VictimUpdated
  | IncidentClosed;

export type Channel = z.output<typeof channel>;
export type Grade = z.output<typeof grade>;
export type Area = z.output<typeof area>;

export function isCallEvent(event: CallmonEvent): event is CallEvent {
  return event.type.startsWith('call.');
}
