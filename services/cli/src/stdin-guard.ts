import { spawn } from 'node:child_process';
import { fstatSync } from 'node:fs';

/** Set in the re-executed child: its own fd 0 is /dev/null, the caller's stdin is fd 3. */
export const MOVED_STDIN_ENV = 'CALLMON_STDIN_FD';

/** Commands that open the embedded store (chDB) in this process. */
const STORE_COMMANDS = new Set(['ingest', 'report', 'start']);

/**
 * chDB reads the host process's standard input as data for any INSERT (chdb-core #239):
 * with a pipe on fd 0 its inserts fail — or, with async inserts off, take rows from the
 * pipe. So a store command whose stdin is not a terminal runs again as a child with fd 0
 * on /dev/null and the caller's stdin handed over as fd 3 (`--file -` reads it there).
 * Returns the child's exit code, or undefined when no re-run is needed.
 */
export async function runWithStdinMoved(argv: string[]): Promise<number | undefined> {
  const command = argv[0];
  if (command === undefined || !STORE_COMMANDS.has(command)) return undefined;
  if (process.env[MOVED_STDIN_ENV] !== undefined) {
    exitWithParent();
    return undefined;
  }
  if (!stdinMayCarryData()) return undefined;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    stdio: ['ignore', 'inherit', 'inherit', 0],
    env: { ...process.env, [MOVED_STDIN_ENV]: '3' },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 1 : 128 + 9));
    });
  });
}

/** A terminal or /dev/null (character devices) carries no data chDB could take. */
function stdinMayCarryData(): boolean {
  try {
    return !fstatSync(0).isCharacterDevice();
  } catch {
    return false; // fd 0 closed
  }
}

/**
 * The re-executed child dies with its parent: a parent killed with SIGKILL cannot pass
 * the signal on, and an orphan must not go on writing to the store.
 */
function exitWithParent(): void {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  }, 200);
  watch.unref();
}
