import { type ChildProcess, spawn } from 'node:child_process';
import { CLI, ROOT } from './callmon-cli.ts';

export { callmonSync } from './callmon-cli.ts';

export interface ApiProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to standard error so far. */
  stderr(): string;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
}

/** Start `callmon api` on a free port and wait until it listens (or fail with its output). */
export async function startApiProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<ApiProcess> {
  const child = spawn('node', [...CLI, 'api', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`callmon api did not listen within ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    const check = () => {
      const match = /listening on (http:\/\/[^\s,]+)/.exec(err);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`callmon api exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
