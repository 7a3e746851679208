import { z } from 'zod';

/**
 * Every error the API answers has this body, whatever went wrong: a client can always
 * tell the kind (`error`, one per status), the exact cause (`reason`, a stable code) and
 * a sentence for people (`detail`). A 400 also names the `parameter` at fault.
 */
export const ERROR_KINDS = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  429: 'too_many_requests',
  500: 'internal',
  503: 'unavailable',
} as const;
export type ErrorStatus = keyof typeof ERROR_KINDS;

export const errorBody = z.strictObject({
  error: z.enum(Object.values(ERROR_KINDS)),
  reason: z.string().describe('stable code, e.g. expired, role_not_allowed, invalid_parameter'),
  detail: z.string().describe('what went wrong, for people'),
  parameter: z.string().optional().describe('the path or query parameter at fault (400 only)'),
});
export type ErrorBody = z.infer<typeof errorBody>;

/** Thrown by handlers and hooks; the error handler turns it into the status and body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ErrorStatus,
    readonly reason: string,
    readonly detail: string,
    readonly parameter?: string,
  ) {
    super(detail);
  }

  get body(): ErrorBody {
    const body: ErrorBody = {
      error: ERROR_KINDS[this.status],
      reason: this.reason,
      detail: this.detail,
    };
    if (this.parameter !== undefined) body.parameter = this.parameter;
    return body;
  }
}

/** A 400 naming the parameter. */
export function badParameter(parameter: string, detail: string): ApiError {
  return new ApiError(400, 'invalid_parameter', `${parameter}: ${detail}`, parameter);
}

/** The first zod issue of a path or query parse as a 400 naming its parameter. */
export function fromZodIssues(error: z.ZodError, part: 'path' | 'query'): ApiError {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const [key] = issue.keys;
    return new ApiError(
      400,
      'unknown_parameter',
      `${part} parameter ${key} is not known here`,
      String(key),
    );
  }
  const parameter = issue?.path.map(String).join('.') || '(none)';
  return badParameter(parameter, issue?.message ?? 'invalid');
}
