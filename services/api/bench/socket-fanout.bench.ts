/**
 * socket.io fan-out of breaches: N clients of one force's room on one node, each breach
 * timed from the moment the feed hands it to the channel to its arrival at every client.
 *
 *   node --import tsx services/api/bench/socket-fanout.bench.ts [clients=1000] [breaches=200] [gapMs=20] [processes=CPUs]
 *
 * The clients live in child processes (their own event loops, as browsers would), so the
 * server's loop does only the server's work. In production each supervisor's browser is
 * its own machine; here `processes` child processes share the clients (and this machine's
 * CPUs with the server), so a client's latency also holds the time its process spends
 * decoding the other clients' copies first — with one process, the 1,000th client waits
 * for 999 decodes. Run with `processes` 1 to see that harness cost. Baselines in the same run: the same
 * breaches to one client (the channel's per-message cost without fan-out), and an
 * in-process EventEmitter with N listeners (the floor: fan-out without a network).
 * Goal (issue 5): p99 delivery < 100 ms with 1,000 clients.
 */

import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { signToken } from '@callmon/auth';
import type { BreachAlert } from '@callmon/compliance';
import { openTestStore } from '@callmon/store/testing';
import { io as connect, type Socket } from 'socket.io-client';
import { attachLiveChannel } from '../src/live/live-channel.ts';
import type { LiveFeed, LiveFeedListener } from '../src/live/live-feed.ts';

const FORCE = 'bench';
const SECRET = 'socket-fanout-benchmark-secret-long-enough';
const now = () => performance.timeOrigin + performance.now();

type TimedBreach = BreachAlert & { sentAt: number };

interface ClientsJob {
  url: string;
  token: string;
  clients: number;
}

async function clientsWorker(job: ClientsJob): Promise<void> {
  const latencies: number[] = [];
  const sockets: Socket[] = [];
  // Connect in small waves: a thousand handshakes at once would time out on 2 CPUs.
  for (let i = 0; i < job.clients; i += 50) {
    const wave = [];
    for (let j = i; j < Math.min(job.clients, i + 50); j++) {
      const socket = connect(job.url, {
        auth: { token: job.token, force: FORCE },
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
      });
      sockets.push(socket);
      socket.on('alert', (entry: { alert: TimedBreach }) => {
        latencies.push(now() - entry.alert.sentAt);
      });
      wave.push(
        new Promise<void>((resolve, reject) => {
          socket.once('snapshot', () => resolve());
          socket.once('connect_error', reject);
        }),
      );
    }
    await Promise.all(wave);
  }
  process.send!({ ready: true });
  process.on('message', (message: { report?: boolean }) => {
    if (!message.report) return;
    for (const socket of sockets) socket.disconnect();
    process.send!({ latencies }, () => process.exit(0));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function summary(name: string, latencies: number[], expected: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    run: name,
    deliveries: `${latencies.length}/${expected}`,
    'p50 ms': percentile(sorted, 0.5).toFixed(2),
    'p95 ms': percentile(sorted, 0.95).toFixed(2),
    'p99 ms': percentile(sorted, 0.99).toFixed(2),
    'max ms': (sorted.at(-1) ?? Number.NaN).toFixed(2),
  };
}

function breach(i: number): TimedBreach {
  return {
    kind: 'breach',
    rule: 'call.unanswered',
    force: FORCE,
    item: `call-${i}`,
    at: i,
    deadline: i,
    policy: 'uk-default-v1',
    channel: '999',
    sentAt: now(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function overSocketIo(clients: number, breaches: number, gapMs: number, processes: number) {
  const listeners = new Set<LiveFeedListener>();
  const feed: LiveFeed = {
    forces: () => [FORCE],
    board: () => undefined,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const server = createServer();
  // A real store on a fresh chDB folder: each room's join reads its acknowledgements once.
  const store = await openTestStore();
  const channel = attachLiveChannel(server, {
    feed,
    store: store.store,
    tokenSecret: SECRET,
    clock: { now: () => Date.now() },
    log: { info() {}, warn() {} },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = signToken(
    { subject: 'bench', role: 'supervisor', forces: [FORCE], ttlMs: 3_600_000 },
    SECRET,
    Date.now(),
  );
  const workers: ChildProcess[] = [];
  const messages: { ready?: boolean; latencies?: number[] }[] = [];
  let wake = () => {};
  const perProcess = Math.ceil(clients / processes);
  for (let first = 0; first < clients; first += perProcess) {
    const job: ClientsJob = { url, token, clients: Math.min(perProcess, clients - first) };
    const worker = fork(fileURLToPath(import.meta.url), ['--clients'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, FANOUT_JOB: JSON.stringify(job) },
    });
    worker.on('message', (message: { ready?: boolean; latencies?: number[] }) => {
      messages.push(message);
      wake();
    });
    worker.on('exit', (code) => {
      if (code !== 0 && code !== null) throw new Error(`clients process exited ${code}`);
    });
    workers.push(worker);
  }
  const nextMessage = async () => {
    while (messages.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return messages.shift()!;
  };
  const connectStart = performance.now();
  for (const _ of workers) await nextMessage();
  const connectMs = performance.now() - connectStart;
  const memory = process.memoryUsage().rss;
  const start = performance.now();
  let emitMs = 0;
  for (let i = 0; i < breaches; i++) {
    const alert = breach(i);
    const before = performance.now();
    for (const listener of listeners) listener.alert(alert);
    emitMs += performance.now() - before;
    await sleep(gapMs);
  }
  const sendMs = performance.now() - start;
  await sleep(500);
  const latencies: number[] = [];
  for (const worker of workers) worker.send({ report: true });
  for (const _ of workers) latencies.push(...((await nextMessage()).latencies ?? []));
  await channel.close();
  await new Promise((resolve) => server.close(resolve));
  await store.cleanup();
  return {
    latencies,
    connectMs,
    sendMs,
    emitMs: emitMs / breaches,
    rssMb: memory / 1_048_576,
  };
}

async function overEventEmitter(clients: number, breaches: number, gapMs: number) {
  const bus = new EventEmitter();
  bus.setMaxListeners(clients + 1);
  const latencies: number[] = [];
  for (let i = 0; i < clients; i++) {
    bus.on('alert', (alert: TimedBreach) => {
      // Through JSON, as the socket path does, so the floor includes serialisation.
      latencies.push(now() - (JSON.parse(JSON.stringify(alert)) as TimedBreach).sentAt);
    });
  }
  for (let i = 0; i < breaches; i++) {
    bus.emit('alert', breach(i));
    await sleep(gapMs);
  }
  return latencies;
}

async function main() {
  const clients = Number(process.argv[2] ?? 1000);
  const breaches = Number(process.argv[3] ?? 200);
  const gapMs = Number(process.argv[4] ?? 20);
  const processes = Number(process.argv[5] ?? availableParallelism());
  console.log(
    `socket.io fan-out: ${clients} clients in one room (in ${processes} client processes), ` +
      `${breaches} breaches ${gapMs} ms apart (${Math.round(1000 / gapMs)}/s)`,
  );
  const floor = await overEventEmitter(clients, breaches, gapMs);
  const one = await overSocketIo(1, breaches, gapMs, 1);
  const many = await overSocketIo(clients, breaches, gapMs, processes);
  console.table([
    summary(`EventEmitter, ${clients} listeners (floor)`, floor, clients * breaches),
    summary('socket.io, 1 client (baseline)', one.latencies, breaches),
    summary(`socket.io, ${clients} clients`, many.latencies, clients * breaches),
  ]);
  const p99 = percentile(
    [...many.latencies].sort((a, b) => a - b),
    0.99,
  );
  console.log(
    `${clients} clients connected and joined in ${many.connectMs.toFixed(0)} ms; ` +
      `server rss ${many.rssMb.toFixed(0)} MB; the server's emit of one breach to the room ` +
      `took ${many.emitMs.toFixed(2)} ms (1 client: ${one.emitMs.toFixed(2)} ms); ` +
      `sending took ${many.sendMs.toFixed(0)} ms`,
  );
  console.log(`goal p99 < 100 ms: ${p99 < 100 ? 'met' : 'NOT met'} (${p99.toFixed(2)} ms)`);
}

if (process.argv[2] === '--clients') await clientsWorker(JSON.parse(process.env.FANOUT_JOB!));
else await main();
