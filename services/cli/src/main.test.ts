import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.ts';
import { main } from './main.ts';

/** Runs the CLI in this process; returns its exit code and what it wrote. */
async function callmon(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('callmon', () => {
  it('lists every command, without loading any of them', async () => {
    const { code, stdout } = await callmon(['--help']);
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS))
      expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  // Each command's service is loaded only when it runs: a wrong module or export name
  // would surface here, not when the CLI starts.
  it.each(Object.keys(COMMANDS))('loads "%s" when it runs: its --help', async (name) => {
    const { code, stdout, stderr } = await callmon([name, '--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: callmon ${name}\\b`));
  });

  it('answers an unknown command with exit 2 and the list', async () => {
    const { code, stderr } = await callmon(['injest']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command "injest"/);
    expect(stderr).toMatch(/^ {2}ingest /m);
  });
});
