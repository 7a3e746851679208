import type { Principal } from '@callmon/auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Access } from './auth.ts';
import { errorBody, fromZodIssues } from './errors.ts';

/** JSON Schema (OpenAPI 3.0 dialect) of a zod schema, input side: what a client sends or reads. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...body } = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' });
  return body;
}

const ERROR_JSON = jsonSchemaOf(errorBody);

export interface RouteResponse {
  description: string;
  /** A JSON body. */
  schema?: z.ZodType;
  /** Other representations by media type (their body is a string). */
  text?: readonly string[];
}

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType> {
  url: string;
  summary: string;
  tags: string[];
  /** Absent for the public operational routes (health, metrics, the OpenAPI document). */
  access?: Access;
  params?: P;
  query?: Q;
  ok: RouteResponse;
  /** Further documented answers, e.g. 404 or 503, besides those every route may give. */
  errors?: Partial<Record<404 | 503, string>>;
  handle(input: {
    params: z.output<P>;
    query: z.output<Q>;
    principal: Principal | undefined;
    request: FastifyRequest;
    reply: FastifyReply;
  }): Promise<unknown> | unknown;
}

function errorResponse(description: string): Record<string, unknown> {
  return { description, ...ERROR_JSON };
}

/**
 * Register a GET route whose parameters are parsed by zod in the handler (a 400 naming
 * the parameter on failure) and whose every answer is in the OpenAPI document. Access
 * is checked before any parameter is looked at (see build-api.ts), so a client without
 * the right learns nothing from validation messages.
 */
export function addRoute<
  P extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
>(app: FastifyInstance, spec: RouteSpec<P, Q>): void {
  const response: Record<string, unknown> = {};
  const content: Record<string, unknown> = {};
  if (spec.ok.schema !== undefined) {
    content['application/json'] = { schema: jsonSchemaOf(spec.ok.schema) };
  }
  for (const type of spec.ok.text ?? []) content[type] = { schema: { type: 'string' } };
  response[200] = { description: spec.ok.description, content };
  if (spec.params !== undefined || spec.query !== undefined) {
    response[400] = errorResponse('an invalid parameter, named in the body');
  }
  if (spec.access !== undefined) {
    response[401] = errorResponse('no token, or a token that is malformed, forged or expired');
    response[403] = errorResponse("the token's role or forces do not allow this");
  }
  response[404] = errorResponse(spec.errors?.[404] ?? 'no such route');
  response[429] = errorResponse('too many requests from this token or address; retry later');
  if (spec.errors?.[503] !== undefined) response[503] = errorResponse(spec.errors[503]);

  app.route({
    method: 'GET',
    url: spec.url,
    config: { access: spec.access },
    schema: {
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.params === undefined ? {} : { params: jsonSchemaOf(spec.params) }),
      ...(spec.query === undefined ? {} : { querystring: jsonSchemaOf(spec.query) }),
      ...(spec.access === undefined ? {} : { security: [{ bearer: [] }] }),
      response,
    },
    handler: async (request, reply) => {
      const params = parsePart(spec.params, request.params, 'path');
      const query = parsePart(spec.query, request.query ?? {}, 'query');
      return spec.handle({ params, query, principal: request.principal, request, reply });
    },
  });
}

function parsePart<S extends z.ZodType>(
  schema: S | undefined,
  value: unknown,
  part: 'path' | 'query',
): z.output<S> {
  if (schema === undefined) return undefined as z.output<S>;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodIssues(parsed.error, part);
  return parsed.data;
}
