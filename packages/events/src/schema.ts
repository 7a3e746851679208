import { z } from 'zod';
import { parseEventTime } from './event-time.ts';

/** The one contract version this build accepts (events.md: any other `v` is rejected). */
export const CONTRACT_VERSION = 1;

/** Identifiers and labels: strings of 1–128 characters (events.md, Envelope). */
export const label = z
  .string({ error: 'expected a string of 1–128 characters' })
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters');

export const forceCode = z
  .string({ error: 'expected a force code string' })
  .regex(/^[a-z0-9][a-z0-9-]{1,31}$/, 'expected a force code matching ^[a-z0-9][a-z0-9-]{1,31}$');

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
  });

export const channel = z.enum(['999', '101'], { error: 'expected "999" or "101" (a string)' });
export const grade = z
  .number({ error: 'expected an integer grade from 1 to 4' })
  .int('expected an integer grade from 1 to 4')
  .min(1, 'expected an integer grade from 1 to 4')
  .max(4, 'expected an integer grade from 1 to 4');
export const area = z.enum(['urban', 'rural'], { error: 'expected "urban" or "rural"' });

const envelope = {
  v: z.literal(CONTRACT_VERSION),
  id: label,
  force: forceCode,
  at: eventTime,
  source: label.optional(),
};

export const callPresented = z.object({
  ...envelope,
  type: z.literal('call.presented'),
  call: label,
  channel,
  queue: label.optional(),
});
export const callAnswered = z.object({
  ...envelope,
  type: z.literal('call.answered'),
  call: label,
  handler: label.optional(),
});
export const callAbandoned = z.object({
  ...envelope,
  type: z.literal('call.abandoned'),
  call: label,
});
export const callClosed = z.object({ ...envelope, type: z.literal('call.closed'), call: label });

export const incidentOpened = z.object({
  ...envelope,
  type: z.literal('incident.opened'),
  incident: label,
  grade,
  area,
  call: label.optional(),
  district: label.optional(),
});
export const incidentRegraded = z.object({
  ...envelope,
  type: z.literal('incident.regraded'),
  incident: label,
  grade,
});
export const unitDispatched = z.object({
  ...envelope,
  type: z.literal('unit.dispatched'),
  incident: label,
  unit: label,
});
export const unitArrived = z.object({
  ...envelope,
  type: z.literal('unit.arrived'),
  incident: label,
  unit: label,
});
export const victimUpdated = z.object({
  ...envelope,
  type: z.literal('victim.updated'),
  incident: label,
});
export const incidentClosed = z.object({
  ...envelope,
  type: z.literal('incident.closed'),
  incident: label,
});

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
