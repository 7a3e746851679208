import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WRITE_JOURNAL_FILE } from '@callmon/ingest';
import { simulate } from '@callmon/simulator';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './support/callmon-cli.ts';

/**
 * architecture.md: "a crash at any point loses nothing" and nothing is counted twice.
 * A real `callmon ingest` process is killed with SIGKILL after it has stored some
 * batches; ingesting the same file again must leave the store holding exactly what one
 * clean run stores, and the same figures.
 */

const root = join(import.meta.dirname, '..');

function ingestArgs(file: string, dataDir: string) {
  return [...CLI, 'ingest', '--file', file, '--data-dir', dataDir, '--summary', 'json'];
}

function dump(dataDir: string) {
  const run = spawnSync(
    'node',
    [
      '--import',
      'tsx',
      join(root, 'test/support/dump-store.ts'),
      dataDir,
      'northants',
      '2024-W08',
      '2024-03-01T00:00:00Z',
    ],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 30 },
  );
  if (run.status !== 0) throw new Error(`dump failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { count: number; events: unknown[]; report: unknown };
}

/** Start an ingest and SIGKILL it once it has logged `batches` stored batches. */
function ingestAndKill(
  file: string,
  dataDir: string,
  batches: number,
): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ingestArgs(file, dataDir), {
      cwd: root,
      env: { ...process.env, CALLMON_BATCH_ROWS: '500', CALLMON_LOG_LEVEL: 'debug' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stored = 0;
    let buffered = '';
    child.stderr.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.includes('"batch stored"') && ++stored === batches) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ killed: signal === 'SIGKILL' }));
  });
}

describe('kill -9 during an ingest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'week.ndjson');
  const lines = [
    ...simulate({ seed: 11, scenario: 'data-faults', start: '2024-02-19T00:00:00Z', days: 7 }),
  ];
  writeFileSync(file, `${lines.map(({ line }) => line).join('\n')}\n`);

  it('then ingesting the same file again stores exactly what one clean run stores', async () => {
    const clean = join(dir, 'clean');
    const cleanRun = spawnSync('node', ingestArgs(file, clean), { cwd: root, encoding: 'utf8' });
    expect(cleanRun.status).toBe(0);
    const cleanSummary = JSON.parse(cleanRun.stdout.trim().split('\n').at(-1)!);
    expect(cleanSummary.accepted).toBeGreaterThan(10_000);

    const crashed = join(dir, 'crashed');
    for (const batches of [5, 20]) {
      const { killed } = await ingestAndKill(file, crashed, batches);
      expect(killed).toBe(true);
    }
    const rerun = spawnSync('node', ingestArgs(file, crashed), { cwd: root, encoding: 'utf8' });
    expect(rerun.status).toBe(0);
    const rerunSummary = JSON.parse(rerun.stdout.trim().split('\n').at(-1)!);
    // Some events were stored before the kills, so the re-run accepts fewer — never more.
    expect(rerunSummary.accepted).toBeLessThan(cleanSummary.accepted);
    expect(rerunSummary.rejected).toBe(cleanSummary.rejected);

    const after = dump(crashed);
    const expected = dump(clean);
    expect(after.count).toBe(cleanSummary.accepted);
    expect(after.events).toEqual(expected.events);
    expect(after.report).toEqual(expected.report);
    // And the report computed in SQL by `callmon report weekly`, likewise.
    const sqlReport = (dataDir: string) =>
      spawnSync(
        'node',
        [
          ...CLI,
          'report',
          'weekly',
          '--force',
          'northants',
          '--week',
          '2024-W08',
          '--as-of',
          '2024-03-01T00:00:00Z',
          '--data-dir',
          dataDir,
        ],
        { cwd: root, encoding: 'utf8' },
      ).stdout;
    expect(JSON.parse(sqlReport(crashed))).toEqual(JSON.parse(sqlReport(clean)));
    expect(JSON.parse(sqlReport(crashed))).toEqual(expected.report);
  }, 300_000);

  it('a batch whose rows a crash lost after the engine logged its token is written by the next run', () => {
    // The crash cannot be timed into that window from outside, so its result is made: the
    // batch's rows deleted (the engine keeps its token), its token left in the journal.
    const dataDir = join(dir, 'token-without-rows');
    const env = { ...process.env, CALLMON_BATCH_ROWS: '500' };
    const first = spawnSync('node', ingestArgs(file, dataDir), {
      cwd: root,
      encoding: 'utf8',
      env,
    });
    expect(first.status).toBe(0);
    const expected = dump(dataDir);
    const drop = spawnSync(
      'node',
      ['--import', 'tsx', join(root, 'test/support/drop-batch.ts'), dataDir, file, '1234'],
      { cwd: root, encoding: 'utf8' },
    );
    expect(drop.status, drop.stderr).toBe(0);
    const lost = JSON.parse(drop.stdout) as {
      batch: string;
      events: number;
      rejected_events: number;
    };
    expect(lost.events).toBeGreaterThan(400);
    expect(dump(dataDir).count).toBe(expected.count - lost.events);

    writeFileSync(join(dataDir, WRITE_JOURNAL_FILE), `${lost.batch}\n`);
    const rerun = spawnSync('node', ingestArgs(file, dataDir), {
      cwd: root,
      encoding: 'utf8',
      env,
    });
    expect(rerun.status).toBe(0);
    expect(rerun.stderr).toContain('an earlier ingest stopped while writing');
    expect(JSON.parse(rerun.stdout.trim().split('\n').at(-1)!).accepted).toBe(lost.events);
    const after = dump(dataDir);
    expect(after.count).toBe(expected.count);
    expect(after.events).toEqual(expected.events);
    expect(after.report).toEqual(expected.report);
    expect(readFileSync(join(dataDir, WRITE_JOURNAL_FILE), 'utf8')).toBe('');
  }, 120_000);
});
