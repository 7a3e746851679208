import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { metricsRegistry } from '../metrics.ts';
import { addRoute } from '../route.ts';
import { healthBody, readyBody } from '../schemas.ts';

/** A force code that cannot exist (events.md): the readiness probe's query touches no data. */
const NO_FORCE = '-';

/**
 * Public operational routes: no token, no force data. Liveness says the process
 * answers; readiness that the store does too (a load balancer stops sending traffic
 * otherwise); /metrics is for Prometheus; /openapi.json documents everything else.
 */
export function operationRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/healthz',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    ok: { description: 'alive', schema: healthBody },
    handle: () => ({ status: 'ok' }),
  });
  addRoute(app, {
    url: '/readyz',
    summary: 'Readiness: the store answers queries',
    tags: ['operations'],
    ok: { description: 'ready', schema: readyBody },
    errors: { 503: 'the store does not answer' },
    handle: async ({ request }) => {
      try {
        await deps.store.countEvents({ force: NO_FORCE });
      } catch (error) {
        request.log.warn({ err: error }, 'readiness: store does not answer');
        throw new ApiError(503, 'store_unavailable', 'the store does not answer queries');
      }
      return { status: 'ready', store: deps.store.mode };
    },
  });
  addRoute(app, {
    url: '/metrics',
    summary: 'Prometheus metrics of this process',
    tags: ['operations'],
    ok: { description: 'Prometheus text exposition format', text: ['text/plain'] },
    handle: async ({ reply }) =>
      reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()),
  });
  addRoute(app, {
    url: '/openapi.json',
    summary: 'This document',
    tags: ['operations'],
    ok: { description: 'OpenAPI 3.0', schema: z.looseObject({ openapi: z.string() }) },
    handle: () => app.swagger(),
  });
}
