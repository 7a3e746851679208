/**
 * `callmon ingest --file` against chDB loading the same NDJSON natively.
 *
 *   npx tsx services/ingest/bench/ingest.bench.ts [--days 245] [--file F] [--runs 1]
 *       [--baseline DIR] [--floor] [--keep]
 *
 * 1. Generates the events with `callmon simulate --days N` (245 days ≈ 1 018 000 lines)
 *    into a temp folder, unless `--file` names an existing NDJSON file.
 * 2. (a) Spawns the real CLI as `pnpm callmon` starts it, `node services/cli/bin/callmon.mjs
 *    ingest --file F --data-dir D --summary json`, on a fresh folder and times it, process
 *    start to exit.
 *    With `--baseline DIR`, first the same with the CLI of another checkout (e.g. the
 *    commit before a change, with its node_modules) on its own fresh folder.
 * 3. (b) Spawns this script in its `--native` role on another fresh folder: it opens the
 *    store there (the store's migrations, so the same schema) and, through the same
 *    `@clickhouse/client` on chDB, loads the file with one
 *    `INSERT INTO events (…) SELECT … FROM file(F, 'LineAsString')`, parsing each line
 *    into the same columns (JSONExtract; the fingerprint built in SQL). Timed twice: the
 *    INSERT alone, and the process start to exit.
 * 4. Checks both folders hold the same rows (count and a hash over every column but the
 *    arrival time and batch) and prints events/s of each and the ratio.
 * 5. With `--floor`: reading the file's lines and `parseEvent` on each, nothing else, in
 *    this process — what the contract's parser alone costs the ingest's one JS thread
 *    (with `--baseline`, also the baseline checkout's `parseEvent`, alternating).
 *
 * Each process's CPU time (user + system, all threads, from /proc) is printed beside its
 * wall clock: on a shared machine it moves far less than the wall clock does.
 *
 * Each load runs in its own process because chDB binds one data folder per process. The
 * environment is passed on, so e.g. CALLMON_BATCH_ROWS=50000 sets the ingest's batch size
 * and NODE_OPTIONS=--max-semi-space-size=64 its young generation.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { childrenCpuMs } from './children-cpu.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const self = fileURLToPath(import.meta.url);

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '245' },
    file: { type: 'string' },
    runs: { type: 'string', default: '1' },
    baseline: { type: 'string' },
    floor: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    // Internal roles of this script, each in its own process.
    native: { type: 'string' },
    check: { type: 'string' },
    into: { type: 'string' },
  },
});

/** Same rows in both folders: every column that does not depend on when or how it was loaded. */
const CHECKSUM = `SELECT count() AS n, toString(sum(cityHash64(toString(tuple(force, id, type, at, v, source,
  call, channel, queue, handler, incident, grade, area, district, unit, fingerprint, raw, source_kind, source_name,
  source_partition, source_offset))))) AS hash FROM events`;

/** The standard error of the last child {@link run} ran (declared before main() runs). */
let lastStderr = '';

if (values.native !== undefined) await nativeRole(values.native, values.into!);
else if (values.check !== undefined) await checkRole(values.check);
else await main();

/**
 * How `pnpm callmon` starts the CLI of the checkout at `cliRoot`: its launcher (a cached
 * bundle), or for a checkout from before the launcher, its sources through tsx.
 */
function cliArgs(cliRoot: string): string[] {
  const launcher = join(cliRoot, 'services/cli/bin/callmon.mjs');
  return existsSync(launcher)
    ? [launcher]
    : ['--import', 'tsx', join(cliRoot, 'services/cli/src/main.ts')];
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'callmon-ingest-bench-'));
  let file = values.file === undefined ? undefined : resolve(values.file);
  if (file === undefined) {
    file = join(work, 'events.ndjson');
    const began = performance.now();
    await run(process.execPath, [
      ...cliArgs(root),
      'simulate',
      '--days',
      values.days,
      '--out',
      file,
    ]);
    console.log(`simulate --days ${values.days}: ${seconds(performance.now() - began)}`);
  }
  const lines = await countLines(file);
  const size = (await stat(file)).size;
  console.log(
    `${file}: ${lines.toLocaleString('en-GB')} lines, ${(size / 2 ** 20).toFixed(0)} MiB; ` +
      `node ${process.version}, ${availableParallelism()} CPUs; ` +
      `CALLMON_BATCH_ROWS=${process.env.CALLMON_BATCH_ROWS ?? '(default)'}, NODE_OPTIONS=${process.env.NODE_OPTIONS ?? ''}`,
  );
  const rate = (took: number) => Math.round((lines / took) * 1000);
  const ingest = async (cliRoot: string, dataDir: string) => {
    const began = performance.now();
    const cpuBefore = childrenCpuMs();
    const summary = await run(
      process.execPath,
      [...cliArgs(cliRoot), 'ingest', '--file', file, '--data-dir', dataDir, '--summary', 'json'],
      cliRoot,
    );
    const counts = JSON.parse(summary.trim().split('\n').at(-1)!) as { accepted: number };
    if (counts.accepted !== lines) throw new Error(`accepted ${counts.accepted} of ${lines}`);
    // The CLI's own figure: first line read to last batch durable (no start-up, no store opening).
    const own = /; ([0-9.]+) s, [0-9]+ lines\/s/.exec(lastStderr);
    return {
      wallMs: performance.now() - began,
      cpuMs: childrenCpuMs() - cpuBefore,
      ownMs: own === null ? Number.NaN : Number(own[1]) * 1000,
    };
  };

  for (let runNo = 1; runNo <= Number(values.runs); runNo++) {
    const folders: string[] = [];
    const folder = (name: string) => {
      const path = join(work, `${name}-${runNo}`);
      folders.push(path);
      return path;
    };
    const loadBefore = loadavg()[0]!;
    const baseline =
      values.baseline === undefined
        ? undefined
        : await ingest(resolve(values.baseline), folder('baseline'));
    const ingestDir = folder('ingest');
    const { wallMs: ingestMs, cpuMs: ingestCpuMs, ownMs } = await ingest(root, ingestDir);

    const began = performance.now();
    const nativeCpuBefore = childrenCpuMs();
    const native = JSON.parse(
      (
        await run(process.execPath, [
          '--import',
          'tsx',
          self,
          '--native',
          file,
          '--into',
          folder('native'),
        ])
      ).trim(),
    ) as { insertMs: number; n: number; hash: string; version: string };
    const nativeWallMs = performance.now() - began;
    const nativeCpuMs = childrenCpuMs() - nativeCpuBefore;
    const loadAfter = loadavg()[0]!;

    const check = JSON.parse(
      (await run(process.execPath, ['--import', 'tsx', self, '--check', ingestDir])).trim(),
    ) as { n: number; hash: string };

    console.log(
      `\nrun ${runNo} (chDB ${native.version}; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)})`,
    );
    const row = (label: string, took: number, cpuMs?: number) =>
      console.log(
        `  ${label.padEnd(44)} ${seconds(took)}  ${fmt(rate(took))} events/s` +
          (cpuMs === undefined || Number.isNaN(cpuMs) ? '' : `  CPU ${seconds(cpuMs)}`),
      );
    const baselineMs = baseline?.wallMs;
    if (baseline !== undefined) {
      row('baseline callmon ingest (process wall clock)', baseline.wallMs, baseline.cpuMs);
    }
    row('callmon ingest (process wall clock)', ingestMs, ingestCpuMs);
    if (!Number.isNaN(ownMs)) row('callmon ingest (its own: first read → durable)', ownMs);
    row('chDB native INSERT … SELECT FROM file()', native.insertMs);
    row('chDB native, process wall clock', nativeWallMs, nativeCpuMs);
    console.log(
      `  ratio ingest / native: ${(native.insertMs / ingestMs).toFixed(2)} (INSERT alone), ` +
        `${(nativeWallMs / ingestMs).toFixed(2)} (both process wall clock)` +
        (Number.isNaN(ownMs)
          ? ''
          : `, ${(native.insertMs / ownMs).toFixed(2)} (INSERT / ingest's own)`) +
        (baselineMs === undefined
          ? ''
          : `; baseline ${(native.insertMs / baselineMs).toFixed(2)} (INSERT alone)`),
    );
    if (!Number.isNaN(ingestCpuMs)) {
      // CPU time moves far less than wall clock when other work shares the machine.
      console.log(
        `  CPU time native process / ingest: ${(nativeCpuMs / ingestCpuMs).toFixed(2)}` +
          (baseline === undefined ? '' : `; baseline ${(nativeCpuMs / baseline.cpuMs).toFixed(2)}`),
      );
    }
    const same = check.n === native.n && check.hash === native.hash;
    console.log(
      `  same rows in both folders: ${same ? 'yes' : 'NO'} (${check.n} / ${native.n} rows)`,
    );
    if (!same) process.exitCode = 1;
    if (!values.keep) {
      for (const path of folders) await rm(path, { recursive: true, force: true });
    }
  }

  if (values.floor) {
    const { parseEvent } = await import('@callmon/events');
    const { openNdjson, readNdjsonLines } = await import('../src/ndjson-source.ts');
    let began = performance.now();
    for await (const _ of readNdjsonLines(openNdjson(file))) {
      // reading only
    }
    const readMs = performance.now() - began;
    const parsers: Array<[string, typeof parseEvent]> = [['parseEvent', parseEvent]];
    if (values.baseline !== undefined) {
      // The baseline checkout's own contract parser, for a like-for-like comparison.
      const other = (await import(
        pathToFileURL(join(resolve(values.baseline), 'packages/events/src/index.ts')).href
      )) as { parseEvent: typeof parseEvent };
      parsers.push(['baseline parseEvent', other.parseEvent]);
    }
    console.log(`\nfloor (this process): reading the lines ${seconds(readMs)}`);
    // Alternating, twice each: the first pass of each also warms it up.
    for (const _ of [1, 2]) {
      for (const [label, parse] of parsers) {
        began = performance.now();
        for await (const { bytes } of readNdjsonLines(openNdjson(file))) parse(bytes);
        const parseMs = performance.now() - began;
        console.log(
          `  reading + ${label.padEnd(20)} ${seconds(parseMs)} (${fmt(rate(parseMs))} events/s)`,
        );
      }
    }
  }
  if (!values.keep) await rm(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

/** (b): migrations through the store, then the engine loads the file itself. */
async function nativeRole(file: string, dataDir: string): Promise<void> {
  const { openStore } = await import('@callmon/store');
  const { openRawClient } = await import('@callmon/store/testing');
  const store = await openStore({ dataDir });
  const client = await openRawClient({ dataDir });
  const fields =
    'Tuple(v UInt8, id String, type String, force String, at String, source Nullable(String), call Nullable(String), channel Nullable(String), queue Nullable(String), handler Nullable(String), incident Nullable(String), grade Nullable(UInt8), area Nullable(String), district Nullable(String), unit Nullable(String))';
  const json = (name: string) =>
    `if(isNull(e.${name}), ',', concat(',', toJSONString(assumeNotNull(e.${name}))))`;
  const literal = `'${file.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const began = performance.now();
  await client.command({
    query: `INSERT INTO events
      (force, id, type, at, v, source, call, channel, queue, handler, incident, grade, area, district, unit,
       fingerprint, raw, arrived_at, source_kind, source_name, source_partition, source_offset, batch)
    SELECT e.force, e.id, e.type, at, e.v, e.source, e.call, e.channel, e.queue, e.handler, e.incident,
       e.grade, e.area, e.district, e.unit,
       concat(',', toString(e.v), ',', toJSONString(e.type), ',', toJSONString(e.force), ',', toJSONString(e.id),
              ',', toString(toUnixTimestamp64Milli(at)), ${['source', 'call', 'channel', 'queue', 'handler', 'incident'].map(json).join(', ')},
              if(isNull(e.grade), ',', concat(',', toString(e.grade))), ${['area', 'district', 'unit'].map(json).join(', ')}),
       line, now64(3, 'UTC'), 'file', ${literal}, 0, n, 'native'
    FROM
    (
        SELECT line, rowNumberInAllBlocks() + 1 AS n, JSONExtract(line, '${fields}') AS e,
               parseDateTime64BestEffort(e.at, 3, 'UTC') AS at
        FROM file(${literal}, 'LineAsString')
    )
    SETTINGS max_partitions_per_insert_block = 0`,
  });
  const insertMs = performance.now() - began;
  const [sum] = await (await client.query({ query: CHECKSUM, format: 'JSONEachRow' })).json<{
    n: number | string;
    hash: string;
  }>();
  const [version] = await (
    await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
  ).json<{ v: string }>();
  await client.close();
  await store.close();
  console.log(
    JSON.stringify({ insertMs, n: Number(sum!.n), hash: sum!.hash, version: version!.v }),
  );
}

async function checkRole(dataDir: string): Promise<void> {
  const { openRawClient } = await import('@callmon/store/testing');
  const client = await openRawClient({ dataDir });
  const [sum] = await (await client.query({ query: CHECKSUM, format: 'JSONEachRow' })).json<{
    n: number | string;
    hash: string;
  }>();
  await client.close();
  console.log(JSON.stringify({ n: Number(sum!.n), hash: sum!.hash }));
}

/** Run a child to completion and return its stdout; its stderr is shown only if it fails. */
function run(command: string, args: string[], cwd = root): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      lastStderr = err;
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${args.slice(2, 4).join(' ')} exited with ${code}:\n${err}`));
    });
  });
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  }
  return n;
}

function seconds(value: number): string {
  return `${(value / 1000).toFixed(1).padStart(6)} s`;
}

function fmt(value: number): string {
  return value.toLocaleString('en-GB').padStart(9);
}
