import {
  ALL_FORCES,
  authorize,
  type Capability,
  type Principal,
  type TokenCheck,
  verifyToken,
} from '@callmon/auth';
import { ApiError } from './errors.ts';

/** What a route needs: a capability on the force in its path, or on every force. */
export interface Access {
  capability: Capability;
  /**
   * `force`: the token must cover the route's `:force`. `all`: the token must cover every
   * force (`*`), for data that no single force owns (unattributed rejected inputs).
   */
  scope: 'force' | 'all';
}

/** The token of an `Authorization: Bearer <token>` header, checked at `now`. */
export function checkBearer(header: string | undefined, secret: string, now: number): TokenCheck {
  if (header === undefined || header === '') {
    return { ok: false, reason: 'missing', detail: 'no Authorization: Bearer <token> header' };
  }
  const match = /^Bearer +(\S+)$/i.exec(header);
  if (match === null) {
    return { ok: false, reason: 'malformed', detail: 'Authorization must be "Bearer <token>"' };
  }
  return verifyToken(match[1], secret, now);
}

/** The principal, or the 401/403 to answer: a missing or bad token is 401, too little right 403. */
export function admit(check: TokenCheck, access: Access, force: string | undefined): Principal {
  if (!check.ok) throw new ApiError(401, check.reason, check.detail);
  const { principal } = check;
  if (access.scope === 'all') {
    const byRole = authorize(principal, access.capability, ALL_FORCES);
    if (!byRole.ok && byRole.reason === 'role_not_allowed') {
      throw new ApiError(403, byRole.reason, byRole.detail);
    }
    if (!principal.forces.includes(ALL_FORCES)) {
      throw new ApiError(
        403,
        'force_not_covered',
        'only a token for every force (*) may read inputs that no single force owns',
      );
    }
    return principal;
  }
  const decision = authorize(principal, access.capability, force ?? '');
  if (!decision.ok) throw new ApiError(403, decision.reason, decision.detail);
  return principal;
}
