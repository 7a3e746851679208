import { signToken } from '@callmon/auth';
import { describe, expect, it } from 'vitest';
import { admit, checkBearer } from './auth.ts';
import { ApiError } from './errors.ts';

const SECRET = 'auth-unit-test-secret-long-enough-for-hmac';
const NOW = 1_700_000_000_000;
const token = (forces: string[], role: 'admin' | 'supervisor' = 'admin') =>
  signToken({ subject: 's', role, forces, ttlMs: 60_000 }, SECRET, NOW);

function refusal(run: () => unknown): { status: number; reason: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, reason: error.reason };
    throw error;
  }
  throw new Error('not refused');
}

describe('bearer tokens', () => {
  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['Basic dXNlcjpwYXNz', 'malformed'],
    ['Bearer', 'malformed'],
    ['Bearer a b', 'malformed'],
  ])('%j is refused as %s', (header, reason) => {
    expect(checkBearer(header, SECRET, NOW)).toMatchObject({ ok: false, reason });
  });

  it('a good token in any case of "Bearer" is accepted', () => {
    expect(checkBearer(`bearer ${token(['wmp'])}`, SECRET, NOW).ok).toBe(true);
  });

  it('routes over every force need a token for every force', () => {
    const all = { capability: 'audit', scope: 'all' } as const;
    expect(
      refusal(() => admit(checkBearer(`Bearer ${token(['wmp'])}`, SECRET, NOW), all, undefined)),
    ).toEqual({
      status: 403,
      reason: 'force_not_covered',
    });
    expect(
      refusal(() =>
        admit(checkBearer(`Bearer ${token(['*'], 'supervisor')}`, SECRET, NOW), all, undefined),
      ),
    ).toEqual({ status: 403, reason: 'role_not_allowed' });
    expect(admit(checkBearer(`Bearer ${token(['*'])}`, SECRET, NOW), all, undefined).role).toBe(
      'admin',
    );
  });

  it('a refused token is a 401, too little right a 403', () => {
    const live = { capability: 'live', scope: 'force' } as const;
    expect(refusal(() => admit(checkBearer(undefined, SECRET, NOW), live, 'wmp')).status).toBe(401);
    expect(
      refusal(() => admit(checkBearer(`Bearer ${token(['gmp'])}`, SECRET, NOW), live, 'wmp')),
    ).toEqual({
      status: 403,
      reason: 'force_not_covered',
    });
  });
});
