import { createHmac, timingSafeEqual } from 'node:crypto';
import { forceCode } from '@callmon/events';
import { z } from 'zod';
import { type Principal, ROLES } from './roles.ts';

/**
 * Signed tokens: `cm1.<payload>.<signature>`, both base64url; the signature is
 * HMAC-SHA256 over `cm1.<payload>` with a secret only the server side holds. A compact,
 * dependency-free format: callmon is both issuer and verifier, so nothing needs JWT's
 * algorithm negotiation (and its `alg: none` pitfalls).
 */
const PREFIX = 'cm1';

/** Forces are the contract's force codes (events.md); `*` covers all. */
const scopeForce = z.union([z.literal('*'), forceCode], { error: 'invalid force code' });

const claimsSchema = z.strictObject({
  sub: z.string().min(1).max(200),
  role: z.enum(ROLES),
  forces: z.array(scopeForce).min(1).max(100),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
});

/** A secret shorter than this is refused: HMAC is only as strong as its key. */
export const MIN_SECRET_BYTES = 32;

export type TokenRefusal =
  | 'missing'
  | 'malformed'
  | 'bad_signature'
  | 'invalid_claims'
  | 'expired'
  | 'not_yet_valid';

export type TokenCheck =
  | { ok: true; principal: Principal }
  | { ok: false; reason: TokenRefusal; detail: string };

export interface TokenRequest {
  subject: string;
  role: Principal['role'];
  forces: readonly string[];
  /** Lifetime in ms. */
  ttlMs: number;
}

function key(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

function sign(body: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

/** Issue a token at `now` (UTC ms). Invalid requests throw, naming what is wrong. */
export function signToken(request: TokenRequest, secret: string | Uint8Array, now: number): string {
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0) {
    throw new Error('token lifetime must be a positive number of milliseconds');
  }
  const claims = claimsSchema.safeParse({
    sub: request.subject,
    role: request.role,
    forces: [...request.forces],
    iat: now,
    exp: now + request.ttlMs,
  });
  if (!claims.success) {
    const issue = claims.error.issues[0];
    throw new Error(
      `invalid token request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  const body = `${PREFIX}.${Buffer.from(JSON.stringify(claims.data)).toString('base64url')}`;
  return `${body}.${sign(body, key(secret)).toString('base64url')}`;
}

/** Check a token at `now` (UTC ms): the principal, or why it is refused (a 401). */
export function verifyToken(
  token: string | undefined,
  secret: string | Uint8Array,
  now: number,
): TokenCheck {
  if (token === undefined || token === '')
    return { ok: false, reason: 'missing', detail: 'no token given' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || parts[1] === '' || parts[2] === '') {
    return { ok: false, reason: 'malformed', detail: 'not a callmon token' };
  }
  const body = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2] as string, 'base64url');
  const expected = sign(body, key(secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad_signature', detail: 'token signature does not match' };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', detail: 'token payload is not JSON' };
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success)
    return { ok: false, reason: 'invalid_claims', detail: 'token claims are invalid' };
  const { sub, role, forces, iat, exp } = claims.data;
  if (now >= exp) return { ok: false, reason: 'expired', detail: 'token has expired' };
  // A small allowance for clocks that differ between the issuing and the checking host.
  if (iat > now + 60_000)
    return { ok: false, reason: 'not_yet_valid', detail: 'token is not valid yet' };
  return { ok: true, principal: { subject: sub, role, forces, issuedAt: iat, expiresAt: exp } };
}

const TTL_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `7d` → ms; anything else throws, saying what is expected. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (match === null) throw new Error(`invalid duration "${text}" (expected e.g. 30m, 12h, 7d)`);
  const ms = Number(match[1]) * (TTL_UNITS[match[2] as string] as number);
  if (ms <= 0) throw new Error(`invalid duration "${text}" (must be more than zero)`);
  if (ms > 366 * 86_400_000) throw new Error(`invalid duration "${text}" (at most 366d)`);
  return ms;
}
