// The CLI's launcher (../launcher.mjs): the bundle's key follows the sources it is made
// from, and `callmon` run through it behaves as the sources run through tsx.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { simulate } from '@callmon/simulator';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, sourceFiles, sourceKey } from '../launcher.mjs';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

describe('sourceKey', () => {
  it('changes with any source or manifest the bundle is made from, and not with docs or tests', () => {
    const root = tempFolder('callmon-launcher-key-');
    write(root, 'package.json', '{}');
    write(root, 'packages/events/package.json', '{"name":"@callmon/events"}');
    write(root, 'packages/events/src/index.ts', 'export const a = 1;\n');
    write(root, 'services/cli/src/main.ts', 'export {};\n');
    write(root, 'README.md', 'docs\n');
    write(root, 'packages/events/README.md', 'docs\n');
    const first = sourceKey(root);
    expect(sourceFiles(root)).toEqual([
      'package.json',
      'packages/events/package.json',
      'packages/events/src/index.ts',
      'services/cli/src/main.ts',
    ]);

    write(root, 'README.md', 'other docs\n');
    write(root, 'packages/events/README.md', 'other docs\n');
    write(root, 'packages/events/src/index.test.ts', 'it("x", () => {});\n');
    expect(sourceKey(root)).toBe(first);

    const keys = new Set([first]);
    const changes: Array<[string, string]> = [
      ['packages/events/src/index.ts', 'export const a = 2;\n'],
      ['packages/events/src/nested/extra.ts', 'export {};\n'],
      ['packages/events/package.json', '{"name":"@callmon/events","type":"module"}'],
      ['package.json', '{"private":true}'],
      ['pnpm-lock.yaml', 'lockfileVersion: 9\n'],
      ['dashboards/live/src/index.ts', 'export {};\n'],
    ];
    for (const [file, text] of changes) {
      write(root, file, text);
      const key = sourceKey(root);
      expect(keys.has(key), `${file} changed the key`).toBe(false);
      keys.add(key);
    }
  });

  it('covers every source of the CLI and the launcher itself', () => {
    const files = sourceFiles(ROOT);
    expect(files).toContain('services/cli/src/main.ts');
    expect(files).toContain('services/cli/launcher.mjs');
    expect(files).toContain('packages/store/src/migrations/0001-events.ts');
    expect(files).toContain('pnpm-lock.yaml');
  });
});

describe('bin/callmon.mjs', () => {
  const bin = join(ROOT, 'services/cli/bin/callmon.mjs');
  const run = (args: string[], cache: string, input?: string) =>
    spawnSync('node', [bin, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CALLMON_CLI_CACHE: cache },
      ...(input === undefined ? {} : { input }),
    });
  const fromSources = (args: string[]) =>
    spawnSync('node', ['--import', 'tsx', join(ROOT, 'services/cli/src/main.ts'), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
    });

  it('runs the CLI from one bundle, made on the first run and kept for the next', () => {
    const cache = tempFolder('callmon-launcher-cache-');
    const first = run(['--help'], cache);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const made = readdirSync(cache);
    expect(made).toEqual([sourceKey(ROOT)]);
    expect(readdirSync(join(cache, made[0]!))).toEqual(
      expect.arrayContaining(['main.mjs', 'parse-worker.mjs']),
    );

    const second = run(['simulate', '--help'], cache);
    expect(second.status).toBe(0);
    expect(readdirSync(cache)).toEqual(made);
    // The same behaviour as the sources run through tsx, exit codes included.
    expect(first.stdout).toBe(fromSources(['--help']).stdout);
    expect(second.stdout).toBe(fromSources(['simulate', '--help']).stdout);
    const unknown = run(['no-such-command'], cache);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(fromSources(['no-such-command']).stderr);
  }, 60_000);

  it('runs from the sources through tsx, saying so, when it cannot make the bundle', () => {
    // A cache folder under a plain file: the bundle cannot be written there.
    const blocker = join(tempFolder('callmon-launcher-blocked-'), 'not-a-folder');
    writeFileSync(blocker, '');
    const result = run(['--help'], join(blocker, 'cache'));
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /^callmon: running from the TypeScript sources \(bundling failed: /,
    );
    expect(result.stdout).toBe(fromSources(['--help']).stdout);
  }, 60_000);

  it('ingests from standard input through the bundled parse workers into the store', () => {
    const cache = tempFolder('callmon-launcher-cache-');
    const dataDir = tempFolder('callmon-launcher-store-');
    const lines = [...simulate({ seed: 3, scenario: 'normal', days: 1 })]
      .slice(0, 200)
      .map(({ line }) => line);
    const result = run(
      ['ingest', '--file', '-', '--data-dir', dataDir, '--summary', 'json'],
      cache,
      `${lines.join('\n')}\n{"not":"an event"}\n\n`,
    );
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').at(-1)!)).toEqual({
      accepted: lines.length,
      duplicates: 0,
      conflicts: 0,
      rejected: 1,
    });
  }, 60_000);
});
