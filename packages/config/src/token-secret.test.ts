import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { GENERATED_SECRET_FILE, resolveTokenSecret } from './token-secret.ts';

/** A folder of this test's own, removed when it finishes. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-secret-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('token secret', () => {
  it('prefers CALLMON_TOKEN_SECRET, then the secret file', () => {
    const dir = tempDir();
    const file = join(dir, 'secret');
    writeFileSync(file, `${'f'.repeat(40)}\n`);
    const fromEnv = 'e'.repeat(40);
    expect(
      resolveTokenSecret(
        loadConfig({ env: { CALLMON_TOKEN_SECRET: fromEnv, CALLMON_TOKEN_SECRET_FILE: file } }),
      ),
    ).toBe(fromEnv);
    expect(resolveTokenSecret(loadConfig({ env: { CALLMON_TOKEN_SECRET_FILE: file } }))).toBe(
      'f'.repeat(40),
    );
  });

  it('embedded with none configured, generates one in the data folder once and reuses it', () => {
    const dataDir = join(tempDir(), 'data');
    const config = loadConfig({ env: { CALLMON_DATA_DIR: dataDir } });
    const first = resolveTokenSecret(config);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(resolveTokenSecret(config)).toBe(first);
    const path = join(dataDir, GENERATED_SECRET_FILE);
    expect(readFileSync(path, 'utf8').trim()).toBe(first);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses short secrets without echoing them', () => {
    const secret = 'too-short-secret';
    let message = '';
    try {
      loadConfig({ env: { CALLMON_TOKEN_SECRET: secret } });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/tokenSecret \(env CALLMON_TOKEN_SECRET\)/);
    expect(message).not.toContain(secret);

    const file = join(tempDir(), 'short');
    writeFileSync(file, 'short\n');
    expect(() =>
      resolveTokenSecret(loadConfig({ env: { CALLMON_TOKEN_SECRET_FILE: file } })),
    ).toThrow(/at least 32 characters/);
    expect(() =>
      resolveTokenSecret(
        loadConfig({ env: { CALLMON_TOKEN_SECRET_FILE: join(tempDir(), 'missing') } }),
      ),
    ).toThrow(/cannot read token secret file/);
  });

  it('reads the api address from env, with a port check', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ apiHost: '127.0.0.1', apiPort: 8080 });
    expect(loadConfig({ env: { CALLMON_API_PORT: '9000' } }).apiPort).toBe(9000);
    expect(() => loadConfig({ env: { CALLMON_API_PORT: '70000' } })).toThrow(/apiPort/);
  });
});
