/**
 * How long the parse workers take to start: from `new ParseWorkers(n)` to every worker's
 * reply to a first one-line batch, with the worker's modules bundled into one ES module
 * (the default) against loaded through tsx one by one (`entry: 'tsx'`, as before).
 *
 *   npx tsx services/ingest/bench/parse-workers-start.bench.ts [--workers 2] [--rounds 5]
 *
 * Each start runs in a fresh process of its own (the bundle is made once per process),
 * the two alternating. Printed per start: wall clock to ready, the process's CPU time
 * (all its threads) to ready, and the whole child process's CPU time from the parent's
 * side (user + system of the finished child and what it waited for; esbuild's service
 * process is not waited for, so its CPU shows only in the wall clock).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ParseWorkers, type WorkerEntry } from '../src/parse-workers.ts';
import { childrenCpuMs } from './children-cpu.ts';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    // Internal: one start, in this process.
    start: { type: 'string' },
  },
});

if (values.start !== undefined) {
  console.log(JSON.stringify(await startOnce(values.start as WorkerEntry)));
  process.exit(0);
}

interface Start {
  readyMs: number;
  cpuMs: number;
}

async function startOnce(entry: WorkerEntry): Promise<Start> {
  const began = performance.now();
  const cpu = process.cpuUsage();
  const workers = new ParseWorkers(Number(values.workers), { entry });
  const line = Buffer.from('{}');
  const batch = () => ({
    bytes: new Uint8Array(line),
    starts: Int32Array.of(0),
    ends: Int32Array.of(line.length),
    numbers: Float64Array.of(1),
    bytesRead: line.length,
    linesRead: 1,
  });
  const source = { kind: 'file' as const, name: 'bench', partition: 0, arrivedAt: 0 };
  // One batch per worker: they go out in turn.
  await Promise.all(
    Array.from({ length: Number(values.workers) }, () =>
      workers.parseLines(batch(), source, false),
    ),
  );
  const used = process.cpuUsage(cpu);
  workers.close();
  return { readyMs: performance.now() - began, cpuMs: (used.user + used.system) / 1000 };
}

const self = fileURLToPath(import.meta.url);
const results: Record<WorkerEntry, Array<Start & { childCpuMs: number }>> = { tsx: [], bundle: [] };
console.log(
  `${values.workers} workers, ${values.rounds} rounds; node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0]!.toFixed(1)}`,
);
for (let round = 0; round < Number(values.rounds); round++) {
  // Alternating which goes first, so that neither always runs on a warmer machine.
  const order: WorkerEntry[] = round % 2 === 0 ? ['tsx', 'bundle'] : ['bundle', 'tsx'];
  for (const entry of order) {
    const before = childrenCpuMs();
    const out = await run(['--import', 'tsx', self, '--start', entry, '--workers', values.workers]);
    const start = JSON.parse(out.trim().split('\n').at(-1)!) as Start;
    results[entry].push({ ...start, childCpuMs: childrenCpuMs() - before });
  }
}
console.log(`load after ${loadavg()[0]!.toFixed(1)}`);
for (const entry of ['tsx', 'bundle'] as const) {
  const runs = results[entry];
  const line = (name: keyof Start | 'childCpuMs') =>
    `${name} median ${median(runs.map((run) => run[name])).toFixed(0)} ms (${runs.map((run) => run[name].toFixed(0)).join(' / ')})`;
  console.log(
    `${entry.padEnd(6)}  ${line('readyMs')}\n        ${line('cpuMs')}\n        ${line('childCpuMs')}`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`start exited with ${code}`)),
    );
  });
}
