import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate } from './simulate.ts';
import { simulateCommand } from './simulate-command.ts';

/** A stream that keeps what is written to it; optionally slow, to exercise backpressure. */
function collector(options: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: Buffer[] = [];
  let maxBuffered = 0;
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      maxBuffered = Math.max(maxBuffered, stream.writableLength);
      if (options.slow) setTimeout(done, 1);
      else done();
    },
  });
  return {
    stream,
    text: () => Buffer.concat(chunks).toString('utf8'),
    maxBuffered: () => maxBuffered,
  };
}

/** A stream whose every write fails with the given error code. */
function failing(code: string) {
  return new Writable({
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error(`write ${code}`), { code }));
    },
  });
}

async function run(argv: string[], stdout = collector()) {
  const stderr = collector();
  const code = await simulateCommand(argv, { stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const expected = (options: Parameters<typeof simulate>[0]) =>
  [...simulate(options)].map((l) => `${l.line}\n`).join('');

const dir = mkdtempSync(join(tmpdir(), 'callmon-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('callmon simulate', () => {
  it('writes NDJSON to standard output: exactly the simulation, one event per line', async () => {
    const result = await run(['--seed', '4', '--days', '0.5', '--scenario', 'understaffed']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(expected({ seed: 4, days: 0.5, scenario: 'understaffed' }));
  });

  it('passes every flag through', async () => {
    const argv = [
      '--seed',
      '8',
      '--start',
      '2024-03-01T06:00:00Z',
      '--days',
      '0.2',
      '--force',
      'west-mercia',
    ];
    const result = await run([...argv, '--calls-999', '300000', '--calls-101', '100000']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      expected({
        seed: 8,
        start: '2024-03-01T06:00:00Z',
        days: 0.2,
        force: 'west-mercia',
        calls999PerYear: 300_000,
        calls101PerYear: 100_000,
      }),
    );
  });

  it('writes to a file with --out, and - means standard output', async () => {
    const file = join(dir, 'out.ndjson');
    const result = await run(['--days', '0.3', '--out', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(expected({ days: 0.3 }));
    expect((await run(['--days', '0.3', '--out', '-'])).stdout).toBe(expected({ days: 0.3 }));
  });

  it('waits for a slow reader instead of buffering the whole output', async () => {
    const slow = collector({ highWaterMark: 16 * 1024, slow: true });
    const result = await run(['--days', '2'], slow);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(expected({ days: 2 }));
    expect(result.stdout.length).toBeGreaterThan(1_000_000);
    // One chunk (64 KiB) in flight at most, never the megabytes of the whole day.
    expect(slow.maxBuffered()).toBeLessThan(200 * 1024);
  });

  it('stops quietly with exit 0 when the reader goes away (EPIPE)', async () => {
    const stderr = collector();
    const code = await simulateCommand(['--days', '2'], {
      stdout: failing('EPIPE'),
      stderr: stderr.stream,
    });
    expect(code).toBe(0);
    expect(stderr.text()).toBe('');
  });

  it('reports other write errors with exit 1', async () => {
    const stderr = collector();
    const code = await simulateCommand(['--days', '1'], {
      stdout: failing('EIO'),
      stderr: stderr.stream,
    });
    expect(code).toBe(1);
    expect(stderr.text()).toMatch(/cannot write standard output: write EIO/);
  });

  it('reports an output file that cannot be created with exit 1', async () => {
    const result = await run(['--days', '0.1', '--out', join(dir, 'missing', 'x.ndjson')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write .*missing.*ENOENT/);
  });

  it('--help prints the usage, every scenario and exits 0', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: callmon simulate/);
    for (const name of ['normal', 'friday-night-surge', 'understaffed', 'data-faults']) {
      expect(result.stdout).toContain(name);
    }
  });

  it('an unknown scenario exits 2 and lists the valid ones', async () => {
    const result = await run(['--scenario', 'chaos']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /unknown scenario "chaos"; valid scenarios: normal, friday-night-surge, understaffed, data-faults/,
    );
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /Unexpected argument 'extra'/],
    [['--seed'], /--seed/],
    [['--seed', 'abc'], /--seed expects an integer/],
    [['--seed', '4294967296'], /--seed expects an integer/],
    [['--days', '0'], /--days expects a positive number/],
    [['--days', 'abc'], /--days expects a positive number/],
    [['--days', ''], /--days expects a positive number/],
    [['--calls-999=-3'], /--calls-999 expects a positive number/],
    [['--calls-101', '1e999'], /--calls-101 expects a positive number/],
    [['--start', '2024-02-19T00:00:00'], /start .* no zone/],
    [['--start', '2024-02-30T00:00:00Z'], /day 30 does not exist/],
    [['--force', 'Northants'], /force "Northants" is not a force code/],
    [['--out', ''], /--out expects a path/],
  ])('%j exits 2 with a clear message', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/callmon simulate --help/);
  });
});
