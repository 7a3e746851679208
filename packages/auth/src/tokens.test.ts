import { describe, expect, it } from 'vitest';
import { authorize, type Principal } from './roles.ts';
import { parseTtl, signToken, verifyToken } from './tokens.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function issue(overrides: Partial<Parameters<typeof signToken>[0]> = {}): string {
  return signToken(
    { subject: 'sgt.patel', role: 'supervisor', forces: ['wmp'], ttlMs: 3_600_000, ...overrides },
    SECRET,
    NOW,
  );
}

describe('signed tokens', () => {
  it('a token verifies to the principal it was issued for', () => {
    const check = verifyToken(issue(), SECRET, NOW + 1000);
    expect(check).toEqual({
      ok: true,
      principal: {
        subject: 'sgt.patel',
        role: 'supervisor',
        forces: ['wmp'],
        issuedAt: NOW,
        expiresAt: NOW + 3_600_000,
      },
    });
  });

  it('a token is refused from the instant it expires', () => {
    expect(verifyToken(issue(), SECRET, NOW + 3_599_999).ok).toBe(true);
    expect(verifyToken(issue(), SECRET, NOW + 3_600_000)).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('a token signed with another secret is refused', () => {
    const forged = signToken(
      { subject: 'x', role: 'admin', forces: ['*'], ttlMs: 60_000 },
      'another-secret-that-is-also-long-enough!!',
      NOW,
    );
    expect(verifyToken(forged, SECRET, NOW)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('changing the payload (e.g. the role) breaks the signature', () => {
    const [prefix, payload, signature] = issue().split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.role = 'admin';
    const tampered = `${prefix}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(verifyToken(tampered, SECRET, NOW)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it.each([
    ['', 'missing'],
    [undefined, 'missing'],
    ['Bearer abc', 'malformed'],
    ['cm1..', 'malformed'],
    ['jwt.abc.def', 'malformed'],
    ['cm1.e30.AAAA', 'bad_signature'],
  ] as const)('%j is refused as %s', (token, reason) => {
    expect(verifyToken(token, SECRET, NOW)).toMatchObject({ ok: false, reason });
  });

  it('a token issued more than a minute in the future is not valid yet', () => {
    expect(verifyToken(issue(), SECRET, NOW - 61_000)).toMatchObject({
      ok: false,
      reason: 'not_yet_valid',
    });
  });

  it('refuses short secrets, unknown roles, bad forces and non-positive lifetimes when issuing', () => {
    expect(() =>
      signToken({ subject: 's', role: 'admin', forces: ['*'], ttlMs: 1 }, 'short', NOW),
    ).toThrow(/at least 32 bytes/);
    expect(() => issue({ role: 'chief' as never })).toThrow(/role/);
    expect(() => issue({ forces: [] })).toThrow(/forces/);
    expect(() => issue({ forces: ['W M P'] })).toThrow(/force code/);
    expect(() => issue({ ttlMs: 0 })).toThrow(/positive/);
  });
});

describe('roles and scopes', () => {
  const principal = (role: Principal['role'], forces: string[]): Principal => ({
    subject: 's',
    role,
    forces,
    issuedAt: NOW,
    expiresAt: NOW + 1,
  });

  it.each([
    ['supervisor', 'live', true],
    ['supervisor', 'acknowledge', true],
    ['supervisor', 'report', false],
    ['supervisor', 'audit', false],
    ['performance', 'live', false],
    ['performance', 'report', true],
    ['performance', 'audit', false],
    ['inspector', 'report', true],
    ['inspector', 'audit', true],
    ['inspector', 'acknowledge', false],
    ['admin', 'live', true],
    ['admin', 'audit', true],
  ] as const)('%s may use %s: %s', (role, capability, allowed) => {
    expect(authorize(principal(role, ['wmp']), capability, 'wmp').ok).toBe(allowed);
  });

  it('a token covers only its forces, or every force with *', () => {
    expect(authorize(principal('admin', ['wmp']), 'live', 'gmp')).toMatchObject({
      ok: false,
      reason: 'force_not_covered',
    });
    expect(authorize(principal('admin', ['wmp', 'gmp']), 'live', 'gmp').ok).toBe(true);
    expect(authorize(principal('inspector', ['*']), 'audit', 'gmp').ok).toBe(true);
  });
});

describe('token lifetimes', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseTtl(text)).toBe(ms));

  it.each(['', '12', 'h', '1.5h', '-1h', '0h', '400d', '12 hours'])('%j is refused', (text) => {
    expect(() => parseTtl(text)).toThrow(/invalid duration/);
  });
});
