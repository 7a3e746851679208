import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenCommand } from '@callmon/api';
import { verifyToken } from '@callmon/auth';
import { type CommandIo, UsageError } from '@callmon/config';
import { afterAll, describe, expect, it } from 'vitest';
import { callmonSync, startApiProcess } from './support/api-process.ts';

/**
 * `callmon token create` and `callmon api` as an operator runs them: tokens signed with
 * the configured (or generated) secret, the api serving them, and the secret never in
 * any output, even at debug level.
 */

const dir = mkdtempSync(join(tmpdir(), 'callmon-api-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('callmon token create', () => {
  const secret = 'token-command-secret-that-is-long-enough-!';
  const env = { CALLMON_TOKEN_SECRET: secret };

  it('prints a token for the role and forces, for 12 hours by default', () => {
    const before = Date.now();
    const run = callmonSync(
      ['token', 'create', '--role', 'inspector', '--force', 'northants', '--force', 'wmp,gmp'],
      env,
    );
    expect(run.status, run.stderr).toBe(0);
    const check = verifyToken(run.stdout.trim(), secret, Date.now());
    if (!check.ok) throw new Error(check.detail);
    expect(check.principal.role).toBe('inspector');
    expect(check.principal.forces).toEqual(['northants', 'wmp', 'gmp']);
    expect(check.principal.expiresAt - check.principal.issuedAt).toBe(12 * 3_600_000);
    expect(check.principal.issuedAt).toBeGreaterThanOrEqual(before);
    expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it('takes --ttl and --subject', () => {
    const run = callmonSync(
      ['token', 'create', '--role', 'admin', '--force', '*', '--ttl', '30m', '--subject', 'ops'],
      env,
    );
    const check = verifyToken(run.stdout.trim(), secret, Date.now());
    if (!check.ok) throw new Error(check.detail);
    expect(check.principal).toMatchObject({ subject: 'ops', forces: ['*'] });
    expect(check.principal.expiresAt - check.principal.issuedAt).toBe(1_800_000);
  });

  it.each([
    [['create', '--force', 'northants'], /--role is required/],
    [['create', '--role', 'chief', '--force', 'northants'], /--role must be one of/],
    [['create', '--role', 'admin'], /--force is required/],
    [['create', '--role', 'admin', '--force', 'no way'], /--force "no way"/],
    [['create', '--role', 'admin', '--force', 'x1', '--ttl', '12 hours'], /--ttl/],
    [['revoke'], /unknown action/],
  ])('%j is a usage error naming the problem', async (args, message) => {
    // In process: the CLI turns a UsageError into exit 2 (checked once below, for real).
    const out: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: process.stderr };
    await expect(tokenCommand(args, io as unknown as CommandIo)).rejects.toThrow(UsageError);
    await expect(tokenCommand(args, io as unknown as CommandIo)).rejects.toThrow(message);
    expect(out).toEqual([]);
  });

  it('a usage error exits 2 with the message on standard error', () => {
    const run = callmonSync(['token', 'create', '--role', 'chief', '--force', 'x1'], env);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--role must be one of/);
    expect(run.stdout).toBe('');
  });

  it('without a configured secret, uses (and creates) the one in the data folder', () => {
    const dataDir = join(dir, 'generated');
    const run = callmonSync(
      ['token', 'create', '--role', 'supervisor', '--force', 'northants', '--data-dir', dataDir],
      { CALLMON_TOKEN_SECRET: '', CALLMON_TOKEN_SECRET_FILE: '' },
    );
    expect(run.status, run.stderr).toBe(0);
    const generated = readFileSync(join(dataDir, 'token-secret'), 'utf8').trim();
    expect(verifyToken(run.stdout.trim(), generated, Date.now()).ok).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(generated);
  });
});

describe('callmon api', () => {
  it('serves the store to tokens of the same secret, never logging it, even at debug', async () => {
    const secret = 'api-command-secret-which-must-never-be-logged';
    const env = { CALLMON_TOKEN_SECRET: secret, CALLMON_LOG_LEVEL: 'debug' };
    const api = await startApiProcess(['--data-dir', join(dir, 'api-data')], env);
    let token = '';
    try {
      token = callmonSync(
        ['token', 'create', '--role', 'admin', '--force', 'northants'],
        env,
      ).stdout.trim();
      const auth = { authorization: `Bearer ${token}` };
      const report = await fetch(
        `${api.url}/api/v1/forces/northants/reports/weekly?week=2024-W08`,
        { headers: auth },
      );
      expect(report.status).toBe(200);
      expect(((await report.json()) as { force: string }).force).toBe('northants');
      const live = await fetch(`${api.url}/api/v1/forces/northants/live`, { headers: auth });
      expect(live.status).toBe(503);
      expect(((await live.json()) as { reason: string }).reason).toBe('live_unavailable');
      const other = await fetch(`${api.url}/api/v1/forces/wmp/data-quality`, { headers: auth });
      expect(other.status).toBe(403);
      const forged = await fetch(`${api.url}/api/v1/forces/northants/data-quality`, {
        headers: { authorization: `Bearer ${token.slice(0, -3)}xyz` },
      });
      expect(forged.status).toBe(401);
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await api.stop()).toBe(0);
    }
    const log = api.stderr();
    expect(log).toMatch(/"level":20/); // debug lines were written
    expect(log).not.toContain(secret);
    expect(log).not.toContain(token.split('.')[2]);
  }, 120_000);

  it('a bad flag is a usage error (exit 2)', () => {
    const run = callmonSync(['api', '--port', 'eighty'], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--port must be a whole number/);
  });
});
