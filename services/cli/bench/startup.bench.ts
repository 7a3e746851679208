/**
 * How long `callmon` takes to start: through its launcher (`services/cli/bin/callmon.mjs`,
 * a cached bundle, as `pnpm callmon` runs it) against the TypeScript sources through tsx
 * (`node --import tsx services/cli/src/main.ts`, how it ran before), alternated in the same
 * run. Two commands: `--help` (start-up alone) and `ingest` of an empty file into a fresh
 * data folder (start-up, opening chDB and applying the migrations, closing).
 *
 *   npx tsx services/cli/bench/startup.bench.ts [rounds=7]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI } from '../../../test/support/callmon-cli.ts';

const rounds = Number(process.argv[2] ?? 7);
const root = resolve(import.meta.dirname, '../../..');
const ways: Record<string, string[]> = {
  launcher: CLI,
  'tsx (baseline)': ['--import', 'tsx', join(root, 'services/cli/src/main.ts')],
};
const work = mkdtempSync(join(tmpdir(), 'callmon-startup-bench-'));
const empty = join(work, 'empty.ndjson');
writeFileSync(empty, '');

function timed(args: string[]): number {
  const started = performance.now();
  const run = spawnSync('node', args, { cwd: root, encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`node ${args.join(' ')}: exit ${run.status}\n${run.stderr}`);
  return performance.now() - started;
}

// The launcher's bundle is made once before timing (the first run after a change pays ≈ 0.4 s).
timed([...ways.launcher!, '--help']);
const times = new Map<string, number[]>();
const load = loadavg()[0]!.toFixed(1);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? Object.keys(ways) : Object.keys(ways).reverse();
  for (const way of order) {
    const help = timed([...ways[way]!, '--help']);
    const dataDir = join(work, `store-${round}-${way.length}`);
    const ingest = timed([...ways[way]!, 'ingest', '--file', empty, '--data-dir', dataDir]);
    rmSync(dataDir, { recursive: true, force: true });
    for (const [command, ms] of [
      ['--help', help],
      ['ingest (empty file, fresh store)', ingest],
    ] as const) {
      const key = `${command}\u0000${way}`;
      times.set(key, [...(times.get(key) ?? []), ms]);
    }
  }
}
rmSync(work, { recursive: true, force: true });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  `\n${rounds} rounds, order alternated; node ${process.version}, ${availableParallelism()} CPUs, load ${load} → ${loadavg()[0]!.toFixed(1)}\n`,
);
console.log('| command | started as | median (ms) | min | max |\n|---|---|---|---|---|');
for (const [key, values] of times) {
  const [command, way] = key.split('\u0000');
  const cells = [median(values), Math.min(...values), Math.max(...values)].map((ms) =>
    Math.round(ms).toLocaleString('en-GB'),
  );
  console.log(`| \`${command}\` | ${way} | ${cells.join(' | ')} |`);
}
