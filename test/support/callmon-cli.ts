// Running `pnpm callmon …` as a child process, the way operators and scripts run it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
/** `node` arguments that start the CLI as `pnpm callmon` does (its bundle: services/cli/launcher.mjs). */
export const CLI = [join(ROOT, 'services/cli/bin/callmon.mjs')];

export interface CliRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed by the caller's `timeoutMs`, not ended by itself. */
  timedOut?: boolean;
}

/** Run the CLI to the end without blocking the test worker. */
export function callmon(
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    onStarted?: (child: ChildProcess) => void;
    /** Sees standard error as it grows (all of it so far). */
    onStderr?: (stderr: string, child: ChildProcess) => void;
    /** SIGKILL the run after this long; the result then says `timedOut`. */
    timeoutMs?: number;
  } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('node', [...CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout,
        stderr,
        ms: Date.now() - started,
        ...(timedOut ? { timedOut } : {}),
      });
    });
    options.onStarted?.(child);
  });
}

/** Run the CLI synchronously: for quick commands (usage errors, kafka init). */
export function callmonSync(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const started = Date.now();
  const run = spawnSync('node', [...CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 30,
  });
  return {
    status: run.status,
    signal: run.signal,
    stdout: run.stdout,
    stderr: run.stderr,
    ms: Date.now() - started,
  };
}

/**
 * `callmon kafka init` for an events topic `topic` (and its live topic `topic.live`) with
 * `partitions` partitions; throws with the command's standard error when it fails.
 */
export function kafkaInit(brokers: string, topic: string, partitions: number): void {
  const init = callmonSync([
    'kafka',
    'init',
    '--brokers',
    brokers,
    '--topic',
    topic,
    '--live-topic',
    `${topic}.live`,
    '--partitions',
    String(partitions),
  ]);
  if (init.status !== 0) throw new Error(`kafka init failed: ${init.stderr}`);
}

/** The `--summary json` line: the last line of standard output. */
export function summaryOf(run: CliRun): {
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
} {
  const last = run.stdout.trimEnd().split('\n').at(-1);
  if (!last) throw new Error(`no summary line; stderr:\n${run.stderr.slice(-3000)}`);
  return JSON.parse(last);
}

export interface StoreDump {
  count: number;
  events: unknown[];
  report: unknown;
}

/** test/support/dump-store.ts in a process of its own (chDB binds one folder per process). */
export function dumpStore(dataDir: string, force: string, week: string, asOf: string): StoreDump {
  const run = spawnSync(
    'node',
    ['--import', 'tsx', join(ROOT, 'test/support/dump-store.ts'), dataDir, force, week, asOf],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 },
  );
  if (run.status !== 0) throw new Error(`dump-store failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as StoreDump;
}

/** `callmon report weekly` (the report computed in SQL by the store), parsed. */
export function sqlWeeklyReport(
  dataDir: string,
  force: string,
  week: string,
  asOf: string,
): unknown {
  const run = callmonSync([
    'report',
    'weekly',
    '--force',
    force,
    '--week',
    week,
    '--as-of',
    asOf,
    '--data-dir',
    dataDir,
  ]);
  if (run.status !== 0) throw new Error(`callmon report weekly failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

export interface StoreRows {
  eventRows: number;
  distinctEvents: number;
  rejectedRows: number;
  rejectedPositions: number;
  rejectedByReason: Record<string, number>;
}

/** test/support/store-rows.ts: the rows a store holds physically. */
export function storeRows(dataDir: string): StoreRows {
  const run = spawnSync(
    'node',
    ['--import', 'tsx', join(ROOT, 'test/support/store-rows.ts'), dataDir],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`store-rows failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as StoreRows;
}
