import { formatUtc } from '@callmon/events';
import type { RejectedEntry, RejectedQuery } from '@callmon/store';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { rangeParameters } from '../instants.ts';
import {
  cursorAfter,
  decodeCursor,
  encodeCursor,
  type RejectedCursor,
} from '../rejected-cursor.ts';
import { addRoute } from '../route.ts';
import { forceParams, rejectedPageBody, rejectedQuery } from '../schemas.ts';

const DEFAULT_PAGE = 100;

/**
 * Rejected inputs, by arrival. A rejected input belongs to a force when its raw JSON
 * named one that could be read (the store's `force` column); the force route shows
 * those. Inputs with no readable force (not JSON, no force field) belong to nobody, so
 * only a token for every force sees them, on the route without a force.
 */
export function rejectedRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/rejected',
    summary: 'Rejected inputs attributed to the force, by arrival, paged by cursor',
    tags: ['audit'],
    access: { capability: 'audit', scope: 'force' },
    params: forceParams,
    query: rejectedQuery,
    ok: { description: 'one page', schema: rejectedPageBody },
    handle: ({ params, query }) => page(deps, query, params.force),
  });
  addRoute(app, {
    url: '/api/v1/rejected',
    summary: 'Every rejected input, attributed or not (tokens for every force only)',
    tags: ['audit'],
    access: { capability: 'audit', scope: 'all' },
    query: rejectedQuery,
    ok: { description: 'one page', schema: rejectedPageBody },
    handle: ({ query }) => page(deps, query, undefined),
  });
}

async function page(
  deps: ApiDeps,
  query: z.output<typeof rejectedQuery>,
  force: string | undefined,
): Promise<z.input<typeof rejectedPageBody>> {
  const range = rangeParameters(query);
  const limit = query.limit === undefined ? DEFAULT_PAGE : Number(query.limit);
  let cursor: RejectedCursor | undefined =
    query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  // A `from` past the cursor's instant makes the cursor moot.
  if (cursor !== undefined && range.from !== undefined && range.from > cursor.arrivedAt) {
    cursor = undefined;
  }
  const request: RejectedQuery = {
    ...range,
    ...(cursor === undefined ? {} : { from: cursor.arrivedAt, offset: cursor.skip }),
    ...(query.reason === undefined ? {} : { reason: query.reason }),
    ...(force === undefined ? {} : { force }),
    // One more than asked tells whether another page follows.
    limit: limit + 1,
  };
  const entries = await deps.store.listRejected(request);
  const items = entries.slice(0, limit);
  const next = entries.length > limit ? cursorAfter(items, cursor) : undefined;
  return {
    items: items.map(rejectedItem),
    next_cursor: next === undefined ? null : encodeCursor(next),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function rejectedItem(entry: RejectedEntry) {
  let text: string | null;
  try {
    text = utf8.decode(entry.raw);
  } catch {
    text = null;
  }
  return {
    arrived_at: formatUtc(entry.arrivedAt),
    reason: entry.reason,
    detail: entry.detail,
    field: entry.field ?? null,
    force: entry.force ?? null,
    event_id: entry.eventId ?? null,
    fingerprint: entry.fingerprint ?? null,
    raw_base64: entry.raw.toString('base64'),
    raw_text: text,
    source: entry.position,
    batch: entry.batch,
  };
}
