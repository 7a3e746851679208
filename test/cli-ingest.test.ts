import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './support/callmon-cli.ts';

/** `callmon ingest` as scripts use it: the summary contract and its errors. */

const root = join(import.meta.dirname, '..');
const line = (event: Record<string, unknown>) =>
  JSON.stringify({ v: 1, force: 'northants', ...event });

function callmon(args: string[], input?: string) {
  return spawnSync('node', [...CLI, ...args], { cwd: root, encoding: 'utf8', input });
}

describe('callmon ingest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-ingest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'events.ndjson');
  writeFileSync(
    file,
    [
      line({
        id: 'a',
        type: 'call.presented',
        at: '2024-02-19T21:00:00Z',
        call: 'c1',
        channel: '999',
      }),
      '',
      '   ',
      line({ id: 'b', type: 'call.answered', at: '2024-02-19T21:00:07Z', call: 'c1' }),
      line({ id: 'b', type: 'call.answered', at: '2024-02-19T21:00:07Z', call: 'c1' }),
      line({ id: 'b', type: 'call.answered', at: '2024-02-19T21:00:09Z', call: 'c1' }),
      '{oops',
      '',
    ].join('\r\n'),
  );
  const dataDir = join(dir, 'data');

  it('prints the summary as the last stdout line; blank lines are skipped, not counted', () => {
    const run = callmon(['ingest', '--file', file, '--data-dir', dataDir, '--summary', 'json']);
    expect(run.status).toBe(0);
    const last = run.stdout.trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(last)).toEqual({ accepted: 2, duplicates: 1, conflicts: 1, rejected: 1 });
    expect(run.stderr).toContain('invalid_json 1');
  });

  it('accepts nothing when the same file is ingested again', () => {
    const run = callmon(['ingest', '--file', file, '--data-dir', dataDir, '--summary', 'json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!)).toEqual({
      accepted: 0,
      duplicates: 3,
      conflicts: 1,
      rejected: 1,
    });
  });

  it('reads standard input for --file -', () => {
    const input = `${line({ id: 'z', type: 'call.presented', at: '2024-02-19T22:00:00Z', call: 'c9', channel: '101' })}\n`;
    const run = callmon(
      ['ingest', '--file', '-', '--data-dir', join(dir, 'stdin'), '--summary', 'json'],
      input,
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ accepted: 1 });
  });

  it('is not confused by data waiting on stdin while it ingests a file (chdb-core #239)', () => {
    const run = callmon(
      ['ingest', '--file', file, '--data-dir', join(dir, 'piped'), '--summary', 'json'],
      'INSERT INTO events VALUES (1)\n',
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!)).toEqual({
      accepted: 2,
      duplicates: 1,
      conflicts: 1,
      rejected: 1,
    });
  });

  it('answers bad flags and missing files with a reason and a non-zero exit', () => {
    expect(callmon(['ingest', '--data-dir', dataDir]).status).toBe(2);
    expect(callmon(['ingest', '--file', file, '--summary', 'yaml']).status).toBe(2);
    const missing = callmon([
      'ingest',
      '--file',
      join(dir, 'absent.ndjson'),
      '--data-dir',
      dataDir,
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('absent.ndjson');
    const badEnv = spawnSync('node', [...CLI, 'ingest', '--file', file], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CALLMON_BATCH_ROWS: 'many', CALLMON_DATA_DIR: dataDir },
    });
    expect(badEnv.status).toBe(2);
    expect(badEnv.stderr).toContain('CALLMON_BATCH_ROWS');
  });

  it('answers a data folder it cannot create with its path and exit 1', () => {
    // Not a crash with a stack trace: the reason, and no summary.
    const notAFolder = join(dir, 'not-a-folder');
    writeFileSync(notAFolder, 'a file\n');
    const run = callmon([
      'ingest',
      '--file',
      file,
      '--data-dir',
      join(notAFolder, 'data'),
      '--summary',
      'json',
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `callmon ingest: ENOTDIR: not a directory, mkdir '${join(notAFolder, 'data')}'`,
    );
    expect(run.stderr).not.toContain('unexpected failure');
    expect(run.stdout).toBe('');
  });
});
