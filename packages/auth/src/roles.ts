/**
 * Who may do what (architecture.md "Who uses it"): a role grants capabilities, a token
 * names the forces it covers. Least privilege: each role gets what its users need and
 * nothing more; `admin` gets everything, still only for its forces.
 */
export const ROLES = ['supervisor', 'performance', 'inspector', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const CAPABILITIES = {
  /** The live snapshot and the socket.io room of a force. */
  live: ['supervisor', 'admin'],
  /** Acknowledge a breach on the live feed (recorded with who and when). */
  acknowledge: ['supervisor', 'admin'],
  /** Weekly reports (json, csv, html). */
  report: ['performance', 'inspector', 'admin'],
  /** Timelines of calls and incidents, rejected events, data quality. */
  audit: ['inspector', 'admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Capability = keyof typeof CAPABILITIES;

/** A token's `forces` entry that covers every force. */
export const ALL_FORCES = '*';

export interface Principal {
  /** Who the token was issued to (a person or a service); recorded on acknowledgements. */
  subject: string;
  role: Role;
  /** Force codes the token covers, or `['*']` for all. */
  forces: readonly string[];
  /** UTC ms. */
  issuedAt: number;
  /** UTC ms; the token is refused from this instant on. */
  expiresAt: number;
}

export type Authorization =
  | { ok: true }
  | { ok: false; reason: 'role_not_allowed' | 'force_not_covered'; detail: string };

/** May `principal` use `capability` on `force`? A 403 answer when not, with the reason. */
export function authorize(
  principal: Principal,
  capability: Capability,
  force: string,
): Authorization {
  const roles: readonly Role[] = CAPABILITIES[capability];
  if (!roles.includes(principal.role)) {
    return {
      ok: false,
      reason: 'role_not_allowed',
      detail: `role ${principal.role} may not use ${capability} (allowed: ${roles.join(', ')})`,
    };
  }
  if (!coversForce(principal, force)) {
    return {
      ok: false,
      reason: 'force_not_covered',
      detail: `token does not cover force ${force}`,
    };
  }
  return { ok: true };
}

export function coversForce(principal: Principal, force: string): boolean {
  return principal.forces.includes(ALL_FORCES) || principal.forces.includes(force);
}
