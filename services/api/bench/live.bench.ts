/**
 * Live-snapshot route under load: p99 latency at a fixed 200 requests/s (autocannon),
 * against /healthz in the same run as the baseline (the cost of HTTP, security headers,
 * rate limiting and metrics alone). The server runs in a child process, so the load
 * generator does not share its event loop; its live state is a simulated week of one
 * force (LiveState fed by the simulator), published once a second as `callmon start`
 * does, and served from the latest publication (publishedLiveView). A third run adds
 * the engine's own once-a-second snapshot work in the same process (embedded mode).
 *
 *   pnpm --filter @callmon/api bench [-- --rate 200 --seconds 10 --rounds 2 --scale 1]
 *
 * --scale multiplies the simulated force's call volume (1 = a mid-sized force,
 * 335 000 calls a year).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signToken } from '@callmon/auth';
import { Policy } from '@callmon/compliance';
import { parseEvent } from '@callmon/events';
import { LiveBus, LiveState } from '@callmon/ingest';
import { simulate } from '@callmon/simulator';
import { openStore } from '@callmon/store';
import autocannon from 'autocannon';
import { buildApi } from '../src/build-api.ts';
import { publishedLiveView } from '../src/live-view.ts';

const SECRET = 'benchmark-secret-that-is-long-enough-0123456789';
const FORCE = 'northants';
const START = '2024-02-19T00:00:00Z';
const DAYS = 7;

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    scale: { type: 'string', default: '1' },
  },
});
const scale = Number(values.scale);

async function serve(): Promise<void> {
  const policy = Policy.ukDefault();
  const bus = new LiveBus();
  const live = new LiveState(policy, bus);
  let events = 0;
  for (const { line } of simulate({
    seed: 1,
    start: START,
    days: DAYS,
    force: FORCE,
    calls999PerYear: 135_000 * scale,
    calls101PerYear: 200_000 * scale,
  })) {
    const parsed = parseEvent(line);
    if (!parsed.ok) continue;
    live.apply([parsed.event]);
    events++;
  }
  const end = Date.parse(START) + DAYS * 86_400_000;
  const liveView = publishedLiveView(bus);
  // As `callmon start` does: advance engine time and publish every force's snapshot
  // once a second; the route serves the latest published one.
  const began = performance.now();
  const tick = () => {
    live.advanceTo(end + Math.round(performance.now() - began));
    live.publishSnapshots();
  };
  tick();
  // Ticking is switched on by the parent for the last run only: it measures the route
  // alone first, then beside the engine's once-a-second snapshot work.
  let ticker: NodeJS.Timeout | undefined;
  process.on('message', (message) => {
    if (message === 'tick') ticker = setInterval(tick, 1000);
  });
  const dir = mkdtempSync(join(tmpdir(), 'callmon-api-bench-'));
  const store = await openStore({ dataDir: dir });
  const app = await buildApi({
    store,
    liveView,
    tokenSecret: SECRET,
    clock: { now: () => end },
    policy,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const t = performance.now();
  live.engines.get(FORCE)!.snapshot();
  const snapshotMs = Math.round(performance.now() - t);
  process.send?.({ address, events, end, snapshotMs });
  process.once('disconnect', async () => {
    if (ticker !== undefined) clearInterval(ticker);
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
}

interface Result {
  label: string;
  requests: number;
  non2xx: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

async function load(
  label: string,
  url: string,
  headers: Record<string, string>,
  seconds = Number(values.seconds),
): Promise<Result> {
  const result = await autocannon({
    url,
    headers,
    connections: Number(values.connections),
    overallRate: Number(values.rate),
    duration: seconds,
  });
  return {
    label,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}

async function main(): Promise<void> {
  const child: ChildProcess = fork(import.meta.filename, ['--serve', '--scale', String(scale)], {
    execArgv: ['--import', 'tsx'],
  });
  const ready = await new Promise<{
    address: string;
    events: number;
    end: number;
    snapshotMs: number;
  }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as never));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const token = signToken(
    { subject: 'bench', role: 'supervisor', forces: [FORCE], ttlMs: 3_600_000 },
    SECRET,
    ready.end,
  );
  const live = `${ready.address}/api/v1/forces/${FORCE}/live`;
  const sample = await fetch(live, { headers: { authorization: `Bearer ${token}` } });
  const bytes = (await sample.arrayBuffer()).byteLength;
  if (sample.status !== 200) throw new Error(`live route answered ${sample.status}`);
  console.log(
    `live state: ${ready.events} events over ${DAYS} days (scale ${scale}); snapshot ${bytes} bytes, ${ready.snapshotMs} ms to compute; ` +
      `${values.rate} req/s for ${values.seconds} s over ${values.connections} connections`,
  );
  const auth = { authorization: `Bearer ${token}` };
  const routes: Array<[string, string, Record<string, string>]> = [
    ['GET /healthz (baseline)', `${ready.address}/healthz`, {}],
    ['GET /api/v1/forces/:force/live', live, auth],
  ];
  // Warm-up (JIT, connection pools), not measured; then alternating rounds, so that a
  // burst of other work on a shared machine hits both routes alike.
  for (const [label, url, headers] of routes) await load(label, url, headers, 3);
  const results: Result[] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [label, url, headers] of routes) results.push(await load(label, url, headers));
  }
  child.send('tick');
  results.push(await load('GET …/live, engine publishing every 1 s in-process', live, auth));
  console.log('| route | requests | non-2xx | errors | p50 ms | p90 ms | p99 ms | max ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.label} | ${r.requests} | ${r.non2xx} | ${r.errors} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} |`,
    );
  }
  child.disconnect();
  const liveRuns = results.filter((r) => r.label === 'GET /api/v1/forces/:force/live');
  if (liveRuns.some((r) => r.non2xx > 0 || r.errors > 0 || r.p99 >= 20)) {
    console.log('live route: p99 target (< 20 ms, no errors) NOT met');
    process.exitCode = 1;
  } else {
    console.log('live route: p99 < 20 ms at the target rate, no errors');
  }
}

await (values.serve ? serve() : main());
