import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallmonConfig } from './config.ts';
import { ConfigError } from './config.ts';

/** The generated secret's file in the data folder, when no secret is configured. */
export const GENERATED_SECRET_FILE = 'token-secret';

/**
 * The token signing key: `tokenSecret`, else the contents of `tokenSecretFile`, else — for
 * the embedded single-machine mode — a random key kept in `<dataDir>/token-secret` (mode
 * 0600), created on first use, so tokens made by `callmon token create` work with
 * `callmon start` on the same data folder. The value is never logged.
 */
export function resolveTokenSecret(config: CallmonConfig): string {
  if (config.tokenSecret !== undefined) return config.tokenSecret;
  if (config.tokenSecretFile !== undefined) return readSecretFile(config.tokenSecretFile);
  const path = join(config.dataDir, GENERATED_SECRET_FILE);
  try {
    return readSecretFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': never overwrite one another process created meanwhile.
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readSecretFile(path);
    throw new ConfigError(`cannot create token secret ${path}: ${(error as Error).message}`);
  }
}

function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path.endsWith(GENERATED_SECRET_FILE)) throw error;
    throw new ConfigError(`cannot read token secret file ${path}: ${(error as Error).message}`);
  }
  const secret = text.trim();
  if (secret.length < 32) {
    throw new ConfigError(`token secret file ${path} must hold at least 32 characters`);
  }
  return secret;
}
