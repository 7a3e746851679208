import type { Principal, TokenCheck } from '@callmon/auth';
import { StoreFailedError } from '@callmon/store';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { type Access, admit, checkBearer } from './auth.ts';
import { type ApiDeps, DEFAULT_RATE_LIMIT } from './deps.ts';
import { ApiError, ERROR_KINDS, type ErrorStatus } from './errors.ts';
import { requestDuration } from './metrics.ts';
import { acknowledgementRoutes } from './routes/acknowledgements.ts';
import { dataQualityRoutes } from './routes/data-quality.ts';
import { liveRoutes } from './routes/live.ts';
import { operationRoutes } from './routes/operations.ts';
import { rejectedRoutes } from './routes/rejected.ts';
import { reportRoutes } from './routes/reports.ts';
import { timelineRoutes } from './routes/timelines.ts';
import { WeekFactsRefresher } from './week-facts-refresher.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The checked token of a route with access rules, set before the handler runs. */
    principal: Principal | undefined;
  }
}

/** Longest path parameter: identifiers are up to 128 characters (events.md). */
const MAX_PARAM_LENGTH = 200;

/**
 * The REST API over a store and a live view, not yet listening. More plugins and routes
 * (socket.io on `app.server`, static dashboard files) may be registered on the returned
 * instance before `listen`/`ready`; they get the same security headers, rate limit and
 * error format. Every route under /api/v1 checks role and force before anything else.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.log === undefined ? { logger: false } : { loggerInstance: deps.log }),
    // Requests are logged at debug by the onResponse hook below, by route pattern.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Malformed URLs (bad percent-encoding) are the client's fault: a 400 in our format.
    frameworkErrors: (error, _request, reply) => {
      (reply as FastifyReply)
        .code(400)
        .send(
          new ApiError(400, 'invalid_url', `the URL cannot be read: ${error.message}`, 'url').body,
        );
    },
  });
  app.decorateRequest('principal', undefined);
  // The rate limiter and the access check both need the token: checked once per request.
  const checked = new WeakMap<FastifyRequest, TokenCheck>();
  const tokenOf = (request: FastifyRequest): TokenCheck => {
    let check = checked.get(request);
    if (check === undefined) {
      check = checkBearer(request.headers.authorization, deps.tokenSecret, deps.clock.now());
      checked.set(request, check);
    }
    return check;
  };
  // zod parses parameters in the handlers (route.ts); the JSON schemas on the routes are
  // for the OpenAPI document only, and responses are plain JSON.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // The dashboard's own scripts, and socket.io back to this host (ws/wss).
        'connect-src': ["'self'", (request) => sameHostSocket(request.headers.host)],
        // Served over plain http on a control-room network too; https is the proxy's job.
        'upgrade-insecure-requests': null,
      },
    },
  });
  if (deps.rateLimit !== false) {
    const limit = deps.rateLimit ?? DEFAULT_RATE_LIMIT;
    await app.register(rateLimit, {
      max: limit.max,
      timeWindow: limit.timeWindowMs,
      // Per token holder when the token is good, else per address: one busy wallboard
      // cannot starve another, and a flood of bad tokens is still one address.
      keyGenerator: (request) => {
        const check = tokenOf(request);
        return check.ok ? `sub:${check.principal.subject}` : `ip:${request.ip}`;
      },
      errorResponseBuilder: (_request, context) =>
        new ApiError(
          429,
          'rate_limited',
          `more than ${context.max} requests in ${context.after}; retry later`,
        ),
    });
  }
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'callmon API',
        version: '1',
        description:
          'Live snapshots, weekly reports, timelines and data quality of police control-room call performance (docs/metrics.md).',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'a token from `callmon token create`',
          },
        },
      },
    },
  });

  // Access before anything else: a client without the right learns nothing more.
  app.addHook('preHandler', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return;
    const check = tokenOf(request);
    const force = (request.params as { force?: unknown }).force;
    request.principal = admit(check, access, typeof force === 'string' ? force : undefined);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    const seconds = reply.elapsedTime / 1000;
    requestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      seconds,
    );
    request.log.debug(
      { method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        new ApiError(404, 'no_route', `no route ${request.method} ${request.url.split('?')[0]}`)
          .body,
      );
  });
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return reply.code(error.status).send(error.body);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own refusals (unsupported media type, body too large, …).
      const kind = ERROR_KINDS[status as ErrorStatus] ?? 'bad_request';
      return reply
        .code(status)
        .send({ error: kind, reason: error.code ?? 'bad_request', detail: error.message });
    }
    if (error instanceof StoreFailedError) {
      request.log.error({ err: error }, 'store failed');
      return reply
        .code(503)
        .send(new ApiError(503, 'store_failed', 'the store failed; the service must restart').body);
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send(new ApiError(500, 'internal_error', 'internal error; see the server log').body);
  });

  operationRoutes(app, deps);
  liveRoutes(app, deps);
  const weekFacts =
    deps.refreshWeekFacts === false
      ? undefined
      : new WeekFactsRefresher({
          store: deps.store,
          policy: deps.policy,
          clock: deps.clock,
          ...(deps.log === undefined ? {} : { log: deps.log }),
        });
  if (weekFacts !== undefined) app.addHook('onClose', () => weekFacts.close());
  reportRoutes(app, deps, weekFacts);
  timelineRoutes(app, deps);
  rejectedRoutes(app, deps);
  dataQualityRoutes(app, deps);
  acknowledgementRoutes(app, deps);
  return app;
}

/** `ws://host wss://host` for a plain Host header; nothing for anything odd in it. */
function sameHostSocket(host: string | undefined): string {
  if (
    host === undefined ||
    !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
  ) {
    return "'self'";
  }
  return `ws://${host} wss://${host}`;
}
