import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Policy, weeklyReport } from '@callmon/compliance';
import { type CallmonEvent, parseEvent } from '@callmon/events';
import { simulate } from '@callmon/simulator';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './support/callmon-cli.ts';

/**
 * Live equals batch equals SQL: a simulated day of the data-faults scenario goes through
 * the real `callmon ingest` into chDB, and `callmon report weekly` (computed in SQL) must
 * equal the TypeScript evaluator run over the same file — in JSON, and in CSV too.
 */

const root = join(import.meta.dirname, '..');

function callmon(args: string[]) {
  const run = spawnSync('node', [...CLI, ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (run.status !== 0) throw new Error(`callmon ${args[0]} failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

describe('a simulated day through callmon ingest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-day-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'day.ndjson');
  const dataDir = join(dir, 'data');
  const lines = [
    ...simulate({ seed: 3, scenario: 'data-faults', start: '2024-02-21T00:00:00Z', days: 1 }),
  ].map(({ line }) => line);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const events: CallmonEvent[] = [];
  for (const line of lines) {
    const parsed = parseEvent(line);
    if (parsed.ok) events.push(parsed.event);
  }

  it('gives the same weekly report from SQL as from the TypeScript evaluator', () => {
    callmon(['ingest', '--file', file, '--data-dir', dataDir]);
    for (const asOf of [
      '2024-02-21T13:17:00.000Z',
      '2024-02-22T06:00:00.000Z',
      '2024-03-04T00:00:00.000Z',
    ]) {
      const fromSql = JSON.parse(
        callmon([
          'report',
          'weekly',
          '--force',
          'northants',
          '--week',
          '2024-W08',
          '--as-of',
          asOf,
          '--data-dir',
          dataDir,
        ]),
      );
      const expected = weeklyReport(events, {
        force: 'northants',
        week: '2024-W08',
        asOf: Date.parse(asOf),
        policy: Policy.ukDefault(),
      });
      expect(fromSql).toEqual(expected);
      expect(fromSql.calls['999'].presented).toBeGreaterThan(100);
    }
  }, 120_000);

  it('after callmon report refresh, the report (now from the stored week facts) is the same', () => {
    const asOf = '2024-03-04T00:00:00.000Z';
    const weekly = ['report', 'weekly', '--force', 'northants', '--week', '2024-W08'];
    const refreshed = callmon([
      'report',
      'refresh',
      '--force',
      'northants',
      '--week',
      '2024-W07',
      '--to',
      '2024-W09',
      '--data-dir',
      dataDir,
    ])
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(refreshed.map(({ week, stored }) => [week, stored])).toEqual([
      ['2024-W07', true],
      ['2024-W08', true],
      ['2024-W09', true],
    ]);
    // The simulated day is 2024-02-21: every item is in W08, none in the weeks either side.
    expect(refreshed.map(({ items }) => items > 0)).toEqual([false, true, false]);
    const fromFacts = JSON.parse(callmon([...weekly, '--as-of', asOf, '--data-dir', dataDir]));
    const expected = weeklyReport(events, {
      force: 'northants',
      week: '2024-W08',
      asOf: Date.parse(asOf),
      policy: Policy.ukDefault(),
    });
    expect(fromFacts).toEqual(expected);

    const backwards = spawnSync(
      'node',
      [
        ...CLI,
        'report',
        'refresh',
        '--force',
        'northants',
        '--week',
        '2024-W09',
        '--to',
        '2024-W08',
        '--data-dir',
        dataDir,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(backwards.status).toBe(2);
    expect(backwards.stderr).toContain('--to 2024-W08 is before --week 2024-W09');
  }, 120_000);

  it('prints the same figures as CSV and HTML, and refuses bad weeks and formats', () => {
    const args = [
      'report',
      'weekly',
      '--force',
      'northants',
      '--week',
      '2024-W08',
      '--as-of',
      '2024-03-04T00:00:00Z',
      '--data-dir',
      dataDir,
    ];
    const report = JSON.parse(callmon(args));
    const csv = callmon([...args, '--format', 'csv'])
      .trimEnd()
      .split('\r\n');
    expect(
      csv.find((row) => row.endsWith(',calls,999,presented,' + report.calls['999'].presented)),
    ).toBeDefined();
    const html = callmon([...args, '--format', 'html']);
    expect(html).toContain('<title>Weekly report northants 2024-W08</title>');
    const badWeek = spawnSync(
      'node',
      [
        ...CLI,
        'report',
        'weekly',
        '--force',
        'northants',
        '--week',
        '2021-W53',
        '--data-dir',
        dataDir,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(badWeek.status).toBe(2);
    expect(badWeek.stderr).toContain('2021 has 52 ISO weeks');
    const badFormat = spawnSync('node', [...CLI, ...args, '--format', 'pdf'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(badFormat.status).toBe(2);
  }, 60_000);
});
