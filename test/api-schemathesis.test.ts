import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '@callmon/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, callmonSync, startApiProcess } from './support/api-process.ts';

/**
 * Schemathesis (infra/local/schemathesis) fuzzes a real `callmon api` process from its
 * own OpenAPI document: no answer may be a 5xx, and every answer must match the status
 * codes, media types and schemas the document declares. Skipped where the fuzzer is not
 * installed, except in CI, where its absence is a failure.
 */

const st = join(import.meta.dirname, '..', 'infra/local/.venv/bin/st');
const present = existsSync(st);
const SECRET = 'schemathesis-run-secret-of-enough-length-0123456789';
const LIVE = '/api/v1/forces/{force}/live';

describe.skipIf(!present && process.env.CI !== 'true')('schemathesis against callmon api', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-st-'));
  const dataDir = join(dir, 'data');
  const env = { CALLMON_TOKEN_SECRET: SECRET, CALLMON_LOG_LEVEL: 'warn' };
  let api: ApiProcess;

  beforeAll(async () => {
    expect(present, 'schemathesis is not installed: bash infra/local/schemathesis ensure').toBe(
      true,
    );
    // A simulated half day with data faults, so answers carry data and rejected inputs.
    const file = join(dir, 'events.ndjson');
    const lines = [
      ...simulate({ seed: 5, scenario: 'data-faults', start: '2024-02-20T06:00:00Z', days: 0.5 }),
    ].map(({ line }) => line);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const ingest = callmonSync(['ingest', '--file', file, '--data-dir', dataDir], env);
    expect(ingest.status, ingest.stderr).toBe(0);
    api = await startApiProcess(['--data-dir', dataDir, '--rate-limit', '10000000'], env);
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function schemathesis(filter: string[], checks: string) {
    const token = callmonSync(
      ['token', 'create', '--role', 'admin', '--force', '*', '--subject', 'schemathesis'],
      env,
    );
    expect(token.status, token.stderr).toBe(0);
    const run = spawnSync(
      st,
      [
        'run',
        `${api.url}/openapi.json`,
        '--header',
        `Authorization: Bearer ${token.stdout.trim()}`,
        ...filter,
        '--checks',
        checks,
        '--phases',
        'examples,coverage,fuzzing',
        '--max-examples',
        process.env.SCHEMATHESIS_EXAMPLES ?? '40',
        '--seed',
        '1',
        '--workers',
        '1',
        '--request-timeout',
        '20',
        '--no-color',
      ],
      // Its example database and reports go to the temporary folder, not the repository.
      { cwd: dir, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 26 },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(0);
    expect(output).toMatch(/passed/i);
  }

  const conformance =
    'status_code_conformance,content_type_conformance,response_schema_conformance';

  it('finds no 5xx and no answer outside the document', () => {
    schemathesis(['--exclude-path', LIVE], `not_a_server_error,${conformance}`);
  }, 360_000);

  // The standalone api has no live source: its live route answers the documented 503,
  // so that one operation is held to the document but not to "no 5xx".
  it('finds the live route answering only as documented', () => {
    schemathesis(['--include-path', LIVE], conformance);
  }, 360_000);
});
