import type { AddressInfo } from 'node:net';
import { buildApi, publishedLiveView } from '@callmon/api';
import { attachLiveChannel, embeddedLiveFeed, registerDashboard } from '@callmon/api/live';
import { parseTtl, signToken } from '@callmon/auth';
import {
  type CommandIo,
  choiceFlag,
  DEFAULT_BATCH_ROWS,
  instantFlag,
  integerFlag,
  loadConfig,
  parseFlags,
  resolveTokenSecret,
  UsageError,
} from '@callmon/config';
import { formatUtc } from '@callmon/events';
import {
  createLog,
  IngestPipeline,
  LiveBus,
  LiveState,
  loadPolicy,
  systemClock,
} from '@callmon/ingest';
import { liveFeed, SCENARIOS } from '@callmon/simulator';
import { openStore } from '@callmon/store';
import { alertLine, renderView } from './terminal-view.ts';

/** The force the simulator plays. */
const SIMULATED_FORCE = 'northants';

export const START_HELP = `Usage: callmon start [--scenario NAME] [--speed X] [--from TIME] [--seed N]
                    [--data-dir DIR] [--duration S] [--policy FILE]
                    [--host H] [--port P] [--token-ttl D] [--view terminal|off]

The embedded all-in-one: the control-room simulator's live feed → ingest → the chDB store
(in --data-dir) → the live engine → the supervisor's live dashboard (socket.io) and the
REST api, on one local address, with a live terminal view of compliance per window and a
feed of breaches. It prints the dashboard's URL with a short-lived admin token:

  dashboard: http://127.0.0.1:8080/#token=…&force=${SIMULATED_FORCE}

Stop with Ctrl-C; everything accepted is stored first.

Options:
  --scenario NAME   ${SCENARIOS.join(', ')} (default normal)
  --speed X         simulated seconds per real second (default 1; 60 = a minute a second)
  --from TIME       simulated start, ISO 8601 with a zone (default now), e.g.
                    2024-02-23T22:00:00Z for a busy Friday night
  --seed N          simulator seed (default 1)
  --data-dir DIR    embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --duration S      stop after S real seconds (default: run until stopped)
  --policy FILE     force policy file (JSON); default uk-default-v1
  --host H          listen address (default 127.0.0.1, env CALLMON_API_HOST)
  --port P          listen port, 0 for any free one (default 8080, env CALLMON_API_PORT)
  --token-ttl D     lifetime of the printed dashboard token (default 12h; e.g. 30m, 8h)
  --view V          terminal: redraw the terminal view when standard output is a
                    terminal (default); off: print only the dashboard line and breaches
  --help            this text
`;

/** Engine time moves (and breaches fire) this often; snapshots and the view once a second. */
const ADVANCE_MS = 200;

export async function startCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    scenario: { type: 'string', default: 'normal' },
    speed: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    duration: { type: 'string' },
    policy: { type: 'string' },
    from: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'token-ttl': { type: 'string', default: '12h' },
    view: { type: 'string', default: 'terminal' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(START_HELP);
    return 0;
  }
  const scenario = choiceFlag(values.scenario ?? 'normal', 'scenario', SCENARIOS);
  const speed = integerFlag(values.speed ?? '1', 'speed', 1, 86_400);
  const seed = integerFlag(values.seed ?? '1', 'seed', 0, 4_294_967_295);
  const duration =
    values.duration === undefined
      ? undefined
      : integerFlag(values.duration, 'duration', 1, 31_536_000);
  const port = values.port === undefined ? undefined : integerFlag(values.port, 'port', 0, 65_535);
  const view = choiceFlag(values.view ?? 'terminal', 'view', ['terminal', 'off'] as const);
  let tokenTtlMs: number;
  try {
    tokenTtlMs = parseTtl(values['token-ttl'] ?? '12h');
  } catch (error) {
    throw new UsageError(`--token-ttl: ${(error as Error).message}`);
  }
  const simulatedStart =
    values.from === undefined ? systemClock.now() : instantFlag(values.from, 'from');
  const config = loadConfig({
    overrides: { dataDir: values['data-dir'], apiHost: values.host, apiPort: port },
  });
  const policy = await loadPolicy(values.policy ?? config.policyFile);
  const tokenSecret = resolveTokenSecret(config);
  const log = createLog(config.logLevel === 'info' ? 'warn' : config.logLevel, 'start');

  const store = await openStore({ dataDir: config.dataDir });
  const bus = new LiveBus();
  const live = new LiveState(policy, bus, simulatedStart);
  const pipeline = new IngestPipeline({
    store,
    log,
    clock: systemClock,
    batchRows: config.batchRows ?? DEFAULT_BATCH_ROWS.stream,
    onDurable: (events) => live.apply(events),
  });

  // REST serves the snapshots published each second (a look-up, not a computation).
  const liveView = publishedLiveView(bus);
  const app = await buildApi({
    store,
    liveView,
    tokenSecret,
    clock: systemClock,
    policy,
    log,
  });
  registerDashboard(app);
  const feed = embeddedLiveFeed({ bus, engines: live.engines, speed });
  const channel = attachLiveChannel(app.server, {
    feed,
    store,
    tokenSecret,
    clock: systemClock,
    log,
  });
  try {
    await app.listen({ host: config.apiHost, port: config.apiPort });
  } catch (error) {
    await channel.close();
    await app.close();
    await store.close();
    // A port in use or an address not on this machine: say which, not a stack trace.
    io.stderr.write(
      `callmon start: cannot listen on ${config.apiHost}:${config.apiPort}: ${(error as Error).message}\n`,
    );
    return 1;
  }
  const { port: boundPort } = app.server.address() as AddressInfo;
  const token = signToken(
    { subject: 'callmon-start', role: 'admin', forces: [SIMULATED_FORCE], ttlMs: tokenTtlMs },
    tokenSecret,
    systemClock.now(),
  );
  const dashboardUrl = `http://${localHost(config.apiHost)}:${boundPort}/#token=${token}&force=${SIMULATED_FORCE}`;
  io.stdout.write(`dashboard: ${dashboardUrl}\n`);
  const drawView = view === 'terminal' && process.stdout.isTTY === true;

  const recent: string[] = [];
  bus.on('alert', (alert) => {
    const line = alertLine(alert);
    recent.unshift(line);
    if (recent.length > 12) recent.pop();
    if (!drawView && alert.kind === 'breach') io.stdout.write(`${line}\n`);
  });

  let stopping = false;
  let wake: () => void = () => {};
  const stopped = new Promise<'stop'>((resolve) => {
    wake = () => resolve('stop');
  });
  const stop = () => {
    stopping = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const version = policy.versionAt(simulatedStart);
  const targets = {
    '999': version.calls['999'].target_ratio,
    '101': version.calls['101'].target_ratio,
  };
  // Control-room (simulated) time, from now on, in step with the simulator's feed (which
  // starts below); tokens and acknowledgements keep the wall clock.
  const realStart = systemClock.now();
  const simulatedNow = () => simulatedStart + (systemClock.now() - realStart) * speed;
  // Snapshots (REST, the dashboard's window updates) and the terminal view once a second,
  // right after a step, so their time is the engine's.
  const publish = () => {
    const [snapshot] = live.publishSnapshots();
    if (snapshot === undefined || !drawView) return;
    const engine = live.engines.get(snapshot.force)!;
    const outstanding = {
      ringing: engine.ringingCalls().length,
      unattended: engine.outstandingIncidents().length,
      updatesOwed: engine.updatesOwed().length,
    };
    io.stdout.write(
      `\u001b[H\u001b[2Jdashboard: ${dashboardUrl}\n\n${renderView(snapshot, outstanding, recent, targets)}\n`,
    );
  };
  // Store first, then evaluate: engine time moves to T only once every event delivered by
  // T is durable and applied, so a call answered just before its deadline never breaches.
  let advancing = false;
  let lastPublished = Number.NEGATIVE_INFINITY;
  const advance = setInterval(() => {
    if (advancing) return;
    advancing = true;
    const t = simulatedNow();
    pipeline
      .flush()
      .then(
        () => {
          live.advanceTo(t);
          if (systemClock.now() - lastPublished >= 1000 - ADVANCE_MS / 2) {
            lastPublished = systemClock.now();
            publish();
          }
        },
        (error: unknown) => log.error({ err: error }, 'store write failed'),
      )
      .finally(() => {
        advancing = false;
      });
  }, ADVANCE_MS);
  const deadline = duration === undefined ? undefined : setTimeout(stop, duration * 1000);

  io.stderr.write(
    `callmon start: scenario ${scenario} at ${speed}x from ${formatUtc(simulatedStart)} ` +
      `(real time ${formatUtc(realStart)}), store ${store.location}\n`,
  );
  let sequence = 0;
  try {
    const lines = liveFeed({
      scenario,
      seed,
      speed,
      force: SIMULATED_FORCE,
      start: formatUtc(simulatedStart),
    })[Symbol.asyncIterator]();
    while (!stopping) {
      // The feed sleeps until its next line is due; a stop must not wait for it.
      const next = await Promise.race([lines.next(), stopped]);
      if (next === 'stop' || next.done) break;
      const line = next.value;
      await pipeline.offer({
        bytes: Buffer.from(line.line),
        position: {
          kind: 'simulator',
          name: `${scenario}-${seed}-${realStart}`,
          partition: 0,
          offset: ++sequence,
        },
        arrivedAt: systemClock.now(),
      });
    }
  } finally {
    clearInterval(advance);
    if (deadline !== undefined) clearTimeout(deadline);
    await channel.close();
    feed.close();
    liveView.close();
    await app.close();
    await pipeline.flush();
    await store.close();
  }
  const counts = pipeline.counts;
  io.stderr.write(
    `callmon start: stopped; ${counts.accepted} accepted, ${counts.duplicates} duplicates, ` +
      `${counts.conflicts} conflicts, ${counts.rejected} rejected; all stored in ${config.dataDir}\n`,
  );
  return 0;
}

/** The address to print for a browser on this machine: a wildcard listen is reachable on loopback. */
function localHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
