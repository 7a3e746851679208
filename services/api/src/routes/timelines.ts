import { formatUtc } from '@callmon/events';
import type { StoredEvent } from '@callmon/store';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { addRoute } from '../route.ts';
import { callParams, incidentParams, timelineBody } from '../schemas.ts';

/** Every stored copy of every event of a call or incident, with arrival metadata, for audit. */
export function timelineRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/calls/:id/timeline',
    summary: "A call's timeline: every raw event naming it, with when and how each arrived",
    tags: ['audit'],
    access: { capability: 'audit', scope: 'force' },
    params: callParams,
    ok: {
      description: 'the events by event time, duplicates marked uncounted',
      schema: timelineBody,
    },
    errors: { 404: 'no event names this call in this force' },
    handle: async ({ params }) => {
      const events = await deps.store.eventsOfCall(params.force, params.id);
      if (events.length === 0) throw unknown('call', params.force, params.id);
      return { force: params.force, call: params.id, events: events.map(timelineEntry) };
    },
  });
  addRoute(app, {
    url: '/api/v1/forces/:force/incidents/:id/timeline',
    summary: "An incident's timeline: every raw event of it, with when and how each arrived",
    tags: ['audit'],
    access: { capability: 'audit', scope: 'force' },
    params: incidentParams,
    ok: {
      description: 'the events by event time, duplicates marked uncounted',
      schema: timelineBody,
    },
    errors: { 404: 'no event names this incident in this force' },
    handle: async ({ params }) => {
      const events = await deps.store.eventsOfIncident(params.force, params.id);
      if (events.length === 0) throw unknown('incident', params.force, params.id);
      return { force: params.force, incident: params.id, events: events.map(timelineEntry) };
    },
  });
}

function unknown(kind: 'call' | 'incident', force: string, id: string): ApiError {
  return new ApiError(404, `unknown_${kind}`, `no event of ${kind} ${id} in force ${force}`);
}

function timelineEntry(stored: StoredEvent) {
  return {
    event: { ...stored.event, at: formatUtc(stored.event.at) },
    raw: stored.raw,
    arrived_at: formatUtc(stored.arrivedAt),
    source: stored.position,
    fingerprint: stored.fingerprint,
    batch: stored.batch,
    counted: stored.counted,
  };
}
