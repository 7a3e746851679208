import { REJECT_REASONS } from '@callmon/events';
import { z } from 'zod';

/**
 * The API's payloads as zod schemas: handlers parse parameters with them, and the
 * OpenAPI document is generated from them (openapi.ts), so the two cannot drift.
 * Response shapes follow docs/metrics.md §7 and §8 exactly.
 */

// ---------- parameters

/** The contract's force code (docs/events.md): anything else can have no data. */
export const forceCode = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,31}$/, 'must be a force code: 2–32 of a-z, 0-9 and -')
  .describe('force code, e.g. northants');

/** Call and incident ids: the contract's identifiers, 1–128 characters. */
export const identifier = z.string().min(1).max(128);

/**
 * An instant as the contract writes `at`: RFC 3339 with a zone, in the years the store can
 * hold (instants.ts); real calendar dates are checked by parseEventTime.
 */
export const instant = z
  .string()
  .regex(
    /^(19[7-9]\d|2[01]\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,3})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/,
    'must be an RFC 3339 date-time with a zone, from 1970 to 2199, e.g. 2024-02-19T21:00:00Z',
  );

export const forceParams = z.strictObject({ force: forceCode });
export const callParams = z.strictObject({ force: forceCode, id: identifier.describe('call id') });
export const incidentParams = z.strictObject({
  force: forceCode,
  id: identifier.describe('incident id'),
});

export const REPORT_FORMATS = ['json', 'csv', 'html'] as const;
export const weeklyReportQuery = z.strictObject({
  week: z
    .string()
    .regex(
      /^(19[7-9]\d|2[01]\d\d)-W(0[1-9]|[1-4]\d|5[0-3])$/,
      'must be an ISO week YYYY-Www from 1970 to 2199, e.g. 2024-W08',
    )
    .describe('ISO week in the policy time zone'),
  as_of: instant.optional().describe('evaluation instant T (default: now)'),
  format: z.enum(REPORT_FORMATS).optional().describe('json (default), csv or html'),
});

export const REJECTED_REASONS = [...REJECT_REASONS, 'duplicate', 'conflict'] as const;
export const MAX_PAGE = 1000;
export const rejectedQuery = z.strictObject({
  reason: z.enum(REJECTED_REASONS).optional(),
  from: instant.optional().describe('arrival time, inclusive'),
  to: instant.optional().describe('arrival time, exclusive'),
  limit: z
    .string()
    .regex(/^([1-9]\d{0,2}|1000)$/, `must be a whole number from 1 to ${MAX_PAGE}`)
    .optional()
    .describe(`page size, 1–${MAX_PAGE} (default 100)`),
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe('next_cursor of the previous page; the same filters must be repeated'),
});

export const acknowledgementsQuery = z.strictObject({
  from: instant.optional().describe('time of the acknowledgement, inclusive'),
  to: instant.optional().describe('time of the acknowledgement, exclusive'),
  limit: z
    .string()
    .regex(/^([1-9]\d{0,2}|1000)$/, `must be a whole number from 1 to ${MAX_PAGE}`)
    .optional()
    .describe(`at most this many, the oldest first, 1–${MAX_PAGE} (default ${MAX_PAGE})`),
});

export const dataQualityQuery = z.strictObject({
  from: instant
    .optional()
    .describe('inclusive; event time for accepted events, arrival time for the rest'),
  to: instant.optional().describe('exclusive'),
});

// ---------- responses

const count = z.number().int().nonnegative();
const ratio = z.number().min(0).max(1).nullable();
const ms = z.number().nullable();
const distribution = z.strictObject({ p50: ms, p90: ms, p95: ms, max: ms, mean: ms });

const channelFigures = z.strictObject({
  presented: count,
  answered: count,
  abandoned: count,
  unresolved: count,
  within: count,
  breached: count,
  pending: count,
  excluded: count,
  compliance: ratio,
  answer_ms: distribution,
  bands: z.strictObject({ le_10s: count, s10_to_60: count, gt_60s: count }),
});

const attendanceFigures = z.strictObject({
  incidents: count,
  attended: count,
  within: count,
  breached: count,
  pending: count,
  compliance: ratio,
  attend_ms: distribution,
});

const windowFigures = {
  calls: z.strictObject({ '999': channelFigures, '101': channelFigures }),
  attendance: z
    .record(z.string(), attendanceFigures)
    .describe('one key per policy target: G<grade>-<area> or G<grade>'),
  victim_updates: z.strictObject({
    met: count,
    breached: count,
    pending: count,
    compliance: ratio,
  }),
};

const utcInstant = z.string().describe('UTC, ISO 8601 with milliseconds');

/** metrics.md §7. */
export const weeklyReportBody = z.strictObject({
  force: z.string(),
  week: z.string(),
  policy: z.string(),
  from: utcInstant,
  to: utcInstant,
  as_of: utcInstant,
  ...windowFigures,
  data_quality: z.strictObject({ negative_durations: count, orphan_events: count }),
});

/** metrics.md §8. */
export const liveSnapshotBody = z.strictObject({
  force: z.string(),
  policy: z.string(),
  as_of: utcInstant,
  windows: z.strictObject({
    '15m': z.strictObject(windowFigures),
    '1h': z.strictObject(windowFigures),
    '24h': z.strictObject(windowFigures),
    '7d': z.strictObject(windowFigures),
  }),
});

const sourcePosition = z.strictObject({
  kind: z.enum(['file', 'kafka', 'simulator']),
  name: z.string(),
  partition: count,
  offset: count,
});

/** One stored copy of an event, with how and when it arrived. */
const storedEvent = z.strictObject({
  event: z
    .record(z.string(), z.unknown())
    .describe('the event as parsed, in wire form (docs/events.md), `at` in UTC'),
  raw: z.string().describe('the line or message exactly as received'),
  arrived_at: utcInstant,
  source: sourcePosition,
  fingerprint: z.string(),
  batch: z.string().describe('the insert batch (deduplication token) that wrote this copy'),
  counted: z
    .boolean()
    .describe('false for a later copy of an event already stored: kept for audit, never counted'),
});

export const timelineBody = z.strictObject({
  force: z.string(),
  call: z.string().optional(),
  incident: z.string().optional(),
  events: z.array(storedEvent),
});

const rejectedEntry = z.strictObject({
  arrived_at: utcInstant,
  reason: z.enum(REJECTED_REASONS),
  detail: z.string(),
  field: z.string().nullable(),
  force: z.string().nullable().describe('the force the input claimed, when it could be read'),
  event_id: z.string().nullable(),
  fingerprint: z.string().nullable(),
  raw_base64: z.string().describe('the bytes exactly as received'),
  raw_text: z.string().nullable().describe('the same bytes as text, when they are valid UTF-8'),
  source: sourcePosition,
  batch: z.string(),
});

export const rejectedPageBody = z.strictObject({
  items: z.array(rejectedEntry),
  next_cursor: z.string().nullable().describe('pass as cursor for the next page; null at the end'),
});

export const acknowledgementsBody = z.strictObject({
  force: z.string(),
  from: utcInstant.nullable(),
  to: utcInstant.nullable(),
  items: z.array(
    z.strictObject({
      alert: z.string().describe("the live feed's alert id (kind:rule:item:breach time in ms)"),
      kind: z.string().describe('breach'),
      rule: z.string().describe('e.g. call.unanswered'),
      item: z.string().describe('the call or incident id'),
      by: z.string().describe("the acknowledging token's subject"),
      role: z.string(),
      at: utcInstant.describe("when it was acknowledged (the api node's clock)"),
      node: z.string().describe('the api process that recorded it'),
    }),
  ),
  truncated: z
    .boolean()
    .describe("more acknowledgements fall in the range: ask again from the last one's at"),
});

export const dataQualityBody = z.strictObject({
  force: z.string(),
  from: utcInstant.nullable(),
  to: utcInstant.nullable(),
  accepted_events: count,
  duplicates: count,
  conflicts: count,
  rejected: z.record(z.string(), count).describe('rejected inputs by reason (contract rejections)'),
  rejected_total: count,
});

export const healthBody = z.strictObject({ status: z.enum(['ok']) });
export const readyBody = z.strictObject({
  status: z.enum(['ready']),
  store: z.enum(['embedded', 'server']),
});
