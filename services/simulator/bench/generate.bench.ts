/**
 * How fast the simulator produces events, against baselines in the same process:
 *
 *   npx tsx services/simulator/bench/generate.bench.ts [days] [scenario]
 *
 * - simulate: iterate `simulate()` (the whole model plus serialisation), no output.
 * - simulate → file: what `callmon simulate --out FILE` does (simulateCommand).
 * - baseline JSON.stringify: serialise the same number of pre-built event objects.
 * - baseline write: write the same number of pre-built lines to a file, same writer.
 *
 * Each measurement is run three times and the best run is reported: the others differ
 * by GC and JIT warm-up, not by the code under test. Rates are given per second of wall
 * time and per second of CPU time (user + system, all threads). On a shared machine the
 * CPU figure is the steadier one. Results go to BENCHMARKS.md.
 */
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ScenarioName } from '../src/scenarios.ts';
import { simulate } from '../src/simulate.ts';
import { simulateCommand, writeLines } from '../src/simulate-command.ts';

const days = Number(process.argv[2] ?? 365);
const scenario = (process.argv[3] ?? 'normal') as ScenarioName;
const RUNS = 3;
const dir = mkdtempSync(join(tmpdir(), 'callmon-sim-bench-'));
const file = join(dir, 'events.ndjson');
const silent = new Writable({ write: (_chunk, _enc, done) => done() });

interface Result {
  name: string;
  events: number;
  ms: number;
  cpuMs: number;
  bytes?: number;
}

async function best(name: string, run: () => Promise<{ events: number; bytes?: number }>) {
  let result: Result | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const { events, bytes } = await run();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (result === undefined || ms < result.ms) result = { name, events, ms, cpuMs, bytes };
  }
  return result!;
}

const results: Result[] = [];

results.push(
  await best('simulate (iterate, no output)', async () => {
    let events = 0;
    let chars = 0;
    for (const { line } of simulate({ days, scenario })) {
      events++;
      chars += line.length;
    }
    return { events, bytes: chars + events };
  }),
);
const events = results[0]!.events;

results.push(
  await best('callmon simulate --out FILE', async () => {
    const code = await simulateCommand(
      ['--days', String(days), '--scenario', scenario, '--out', file],
      { stdout: silent, stderr: process.stderr },
    );
    if (code !== 0) throw new Error(`simulateCommand exited ${code}`);
    return { events, bytes: statSync(file).size };
  }),
);

// Baselines work on real simulated events, built before the clock starts. A pool of
// 100,000 distinct objects, cycled to reach the same count, keeps memory modest.
const pool: { line: string; deliverAt: number }[] = [];
for (const l of simulate({ days, scenario })) {
  if (l.fault?.kind === 'malformed') continue;
  pool.push(l);
  if (pool.length === 100_000) break;
}
const objects = pool.map((l) => JSON.parse(l.line) as Record<string, unknown>);

results.push(
  await best('baseline: JSON.stringify pre-built objects', async () => {
    let chars = 0;
    for (let i = 0; i < events; i++) chars += JSON.stringify(objects[i % objects.length]).length;
    return { events, bytes: chars + events };
  }),
);

results.push(
  await best('baseline: write pre-built lines to FILE', async () => {
    function* lines() {
      for (let i = 0; i < events; i++) yield pool[i % pool.length]!;
    }
    const stream = createWriteStream(file);
    await writeLines(lines(), stream);
    stream.end();
    await once(stream, 'finish');
    return { events, bytes: statSync(file).size };
  }),
);

rmSync(dir, { recursive: true, force: true });

const stringify = results[2]!;
const perCpu = (r: Result) => r.events / r.cpuMs;
const num = (x: number) => Math.round(x).toLocaleString('en-GB');
console.log(
  `simulator throughput: ${days} days, scenario ${scenario}, ${num(events)} events, best of ${RUNS}`,
);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
console.log(
  `${'measurement'.padEnd(44)}${'events/s'.padStart(11)}${'events/CPU-s'.padStart(14)}${'MB/s'.padStart(7)}${'s'.padStart(7)}${'× stringify (CPU)'.padStart(19)}`,
);
for (const r of results) {
  const mbPerS = r.bytes === undefined ? '' : ((r.bytes / r.ms) * 1000) / 1e6;
  console.log(
    r.name.padEnd(44) +
      num((r.events / r.ms) * 1000).padStart(11) +
      num(perCpu(r) * 1000).padStart(14) +
      (mbPerS === '' ? '' : mbPerS.toFixed(0)).padStart(7) +
      (r.ms / 1000).toFixed(2).padStart(7) +
      (perCpu(r) / perCpu(stringify)).toFixed(2).padStart(19),
  );
}
