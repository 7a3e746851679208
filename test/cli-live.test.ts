import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `pnpm callmon live` end to end, as a script would run it: a real process, a real file,
 * stdout holding the snapshot and nothing else. Expected figures are worked by hand from
 * metrics.md for the fixture below, as of 21:30:00Z.
 */

const root = join(import.meta.dirname, '..');
const line = (event: Record<string, unknown>) =>
  JSON.stringify({ v: 1, force: 'northants', ...event });

const FIXTURE = [
  line({
    id: 'c0-p',
    type: 'call.presented',
    at: '2024-02-19T20:00:00Z',
    call: 'c0',
    channel: '999',
  }),
  line({ id: 'c0-a', type: 'call.answered', at: '2024-02-19T20:00:30Z', call: 'c0' }),
  line({
    id: 'c1-p',
    type: 'call.presented',
    at: '2024-02-19T21:04:05.123Z',
    call: 'c1',
    channel: '999',
  }),
  // The same instant spelled in another zone: the answer is 8 777 ms after presentation.
  line({ id: 'c1-a', type: 'call.answered', at: '2024-02-19T22:04:13.900+01:00', call: 'c1' }),
  line({
    id: 'c2-p',
    type: 'call.presented',
    at: '2024-02-19T21:10:00Z',
    call: 'c2',
    channel: '999',
  }),
  line({
    id: 'c3-p',
    type: 'call.presented',
    at: '2024-02-19T21:20:00Z',
    call: 'c3',
    channel: '101',
  }),
  line({ id: 'c3-a', type: 'call.answered', at: '2024-02-19T21:22:00Z', call: 'c3' }),
  line({ id: 'c3-a', type: 'call.answered', at: '2024-02-19T21:22:00Z', call: 'c3' }), // duplicate
  line({ id: 'c1-a', type: 'call.answered', at: '2024-02-19T21:04:06Z', call: 'c1' }), // conflict
  '',
  'not json at all',
  '{"v":2,"id":"x","type":"call.presented"}',
  line({
    id: 'i1-o',
    type: 'incident.opened',
    at: '2024-02-19T21:06:40Z',
    incident: 'i1',
    grade: 1,
    area: 'urban',
  }),
  line({
    id: 'i1-r',
    type: 'unit.arrived',
    at: '2024-02-19T21:19:02Z',
    incident: 'i1',
    unit: 'NR12',
  }),
  JSON.stringify({
    v: 1,
    force: 'elsewhere',
    id: 'e1',
    type: 'call.presented',
    at: '2024-02-19T21:25:00Z',
    call: 'e',
    channel: '999',
  }),
  line({
    id: 'c4-p',
    type: 'call.presented',
    at: '2024-02-19T21:45:00Z',
    call: 'c4',
    channel: '999',
  }), // after T
].join('\n');

function callmon(args: string[], input?: string) {
  return spawnSync('pnpm', ['-s', 'callmon', ...args], { cwd: root, encoding: 'utf8', input });
}

const none = { p50: null, p90: null, p95: null, max: null, mean: null };
const idleChannel = {
  presented: 0,
  answered: 0,
  abandoned: 0,
  unresolved: 0,
  within: 0,
  breached: 0,
  pending: 0,
  excluded: 0,
  compliance: null,
  answer_ms: none,
  bands: { le_10s: 0, s10_to_60: 0, gt_60s: 0 },
};
const idleAttendance = {
  incidents: 0,
  attended: 0,
  within: 0,
  breached: 0,
  pending: 0,
  compliance: null,
  attend_ms: none,
};
const c3 = {
  ...idleChannel,
  presented: 1,
  answered: 1,
  within: 1,
  compliance: 1,
  answer_ms: { p50: 120000, p90: 120000, p95: 120000, max: 120000, mean: 120000 },
  bands: { le_10s: 0, s10_to_60: 0, gt_60s: 1 },
};
const i1 = {
  ...idleAttendance,
  incidents: 1,
  attended: 1,
  within: 1,
  compliance: 1,
  attend_ms: { p50: 742000, p90: 742000, p95: 742000, max: 742000, mean: 742000 },
};
const noUpdates = { met: 0, breached: 0, pending: 0, compliance: null };
const lastDay = {
  calls: {
    '999': {
      ...idleChannel,
      presented: 3,
      answered: 2,
      unresolved: 1,
      within: 1,
      breached: 2,
      compliance: 1 / 3,
      answer_ms: { p50: 8777, p90: 30000, p95: 30000, max: 30000, mean: 19388.5 },
      bands: { le_10s: 1, s10_to_60: 1, gt_60s: 0 },
    },
    '101': c3,
  },
  attendance: { 'G1-urban': i1, 'G1-rural': idleAttendance, G2: idleAttendance },
  victim_updates: noUpdates,
};

describe('callmon live', () => {
  const dir = mkdtempSync(join(tmpdir(), 'callmon-live-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'events.ndjson');
  writeFileSync(file, FIXTURE);

  it('prints exactly the §8 snapshot on stdout and the line accounting on stderr', () => {
    const run = callmon([
      'live',
      '--file',
      file,
      '--force',
      'northants',
      '--as-of',
      '2024-02-19T21:30:00Z',
      '--format',
      'json',
    ]);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      force: 'northants',
      policy: 'uk-default-v1',
      as_of: '2024-02-19T21:30:00.000Z',
      windows: {
        '15m': {
          calls: { '999': idleChannel, '101': c3 },
          attendance: {
            'G1-urban': idleAttendance,
            'G1-rural': idleAttendance,
            G2: idleAttendance,
          },
          victim_updates: noUpdates,
        },
        '1h': {
          calls: {
            '999': {
              ...idleChannel,
              presented: 2,
              answered: 1,
              unresolved: 1,
              within: 1,
              breached: 1,
              compliance: 0.5,
              answer_ms: { p50: 8777, p90: 8777, p95: 8777, max: 8777, mean: 8777 },
              bands: { le_10s: 1, s10_to_60: 0, gt_60s: 0 },
            },
            '101': c3,
          },
          attendance: { 'G1-urban': i1, 'G1-rural': idleAttendance, G2: idleAttendance },
          victim_updates: noUpdates,
        },
        '24h': lastDay,
        '7d': lastDay,
      },
    });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(
      '15 lines: 11 accepted, 1 duplicates, 1 conflicts, 2 rejected (invalid_json 1, unsupported_version 1); 9 applied',
    );
  });

  it('reads standard input for --file -', () => {
    const run = callmon(
      ['live', '--file', '-', '--force', 'northants', '--as-of', '2024-02-19T21:30:00Z'],
      FIXTURE,
    );
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).windows['1h'].calls['999'].presented).toBe(2);
  });

  it('answers bad flags with exit 2 and a reason, and a missing file with exit 1', () => {
    const badTime = callmon([
      'live',
      '--file',
      file,
      '--force',
      'northants',
      '--as-of',
      '2024-02-30T00:00:00Z',
    ]);
    expect(badTime.status).toBe(2);
    expect(badTime.stderr).toContain('--as-of');
    expect(badTime.stdout).toBe('');
    const missing = callmon([
      'live',
      '--file',
      join(dir, 'absent.ndjson'),
      '--force',
      'northants',
      '--as-of',
      '2024-02-19T21:30:00Z',
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('absent.ndjson');
    const noForce = callmon(['live', '--file', file, '--as-of', '2024-02-19T21:30:00Z']);
    expect(noForce.status).toBe(2);
    expect(noForce.stderr).toContain('--force is required');
    const badFormat = callmon([
      'live',
      '--file',
      file,
      '--force',
      'northants',
      '--as-of',
      '2024-02-19T21:30:00Z',
      '--format',
      'xml',
    ]);
    expect(badFormat.status).toBe(2);
    const unknown = callmon(['nonsense']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });

  it('rejects an invalid policy file with the field named', () => {
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        force: 'northants',
        versions: [{ id: 'v1', effective_from: null, calls: { '999': { answer_within_s: -5 } } }],
      }),
    );
    const run = callmon([
      'live',
      '--file',
      file,
      '--force',
      'northants',
      '--as-of',
      '2024-02-19T21:30:00Z',
      '--policy',
      policy,
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('answer_within_s');
  });

  it('judges calls by the policy file given', () => {
    const policy = join(dir, 'policy-101.json');
    writeFileSync(
      policy,
      JSON.stringify({
        force: 'northants',
        versions: [
          { id: 'nth-v1', effective_from: null, calls: { '101': { answer_within_s: 60 } } },
        ],
      }),
    );
    const run = callmon([
      'live',
      '--file',
      file,
      '--force',
      'northants',
      '--as-of',
      '2024-02-19T21:30:00Z',
      '--policy',
      policy,
    ]);
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout);
    expect(snapshot.policy).toBe('nth-v1');
    expect(snapshot.windows['15m'].calls['101']).toMatchObject({
      within: 0,
      breached: 1,
      compliance: 0,
    });
  });
});
