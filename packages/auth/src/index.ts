export {
  ALL_FORCES,
  type Authorization,
  authorize,
  CAPABILITIES,
  type Capability,
  coversForce,
  type Principal,
  ROLES,
  type Role,
} from './roles.ts';
export {
  MIN_SECRET_BYTES,
  parseTtl,
  signToken,
  type TokenCheck,
  type TokenRefusal,
  type TokenRequest,
  verifyToken,
} from './tokens.ts';
