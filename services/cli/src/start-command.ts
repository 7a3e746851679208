import { type CommandIo, choiceFlag, integerFlag, loadConfig, parseFlags } from '@callmon/config';
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

export const START_HELP = `Usage: callmon start [--scenario NAME] [--speed X] [--seed N] [--data-dir DIR] [--duration S]

The embedded all-in-one: the control-room simulator's live feed → ingest → the chDB store
(in --data-dir) → the live engine, with a live terminal view of compliance per window and
a feed of breaches. Stop with Ctrl-C; everything accepted is stored first.

Options:
  --scenario NAME   ${SCENARIOS.join(', ')} (default normal)
  --speed X         simulated seconds per real second (default 1; 60 = a minute a second)
  --seed N          simulator seed (default 1)
  --data-dir DIR    embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --duration S      stop after S real seconds (default: run until stopped)
  --policy FILE     force policy file (JSON); default uk-default-v1
  --help            this text
`;

export async function startCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    scenario: { type: 'string', default: 'normal' },
    speed: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    duration: { type: 'string' },
    policy: { type: 'string' },
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
  const config = loadConfig({ overrides: { dataDir: values['data-dir'] } });
  const policy = await loadPolicy(values.policy ?? config.policyFile);
  const log = createLog(config.logLevel === 'info' ? 'warn' : config.logLevel, 'start');

  const store = await openStore({ dataDir: config.dataDir });
  const bus = new LiveBus();
  const realStart = systemClock.now();
  const simulatedNow = () => realStart + (systemClock.now() - realStart) * speed;
  const live = new LiveState(policy, bus, realStart);
  const pipeline = new IngestPipeline({
    store,
    log,
    clock: systemClock,
    batchRows: config.batchRows,
    onDurable: (events) => live.apply(events),
  });

  const recent: string[] = [];
  bus.on('alert', (alert) => {
    const line = alertLine(alert);
    recent.unshift(line);
    if (recent.length > 12) recent.pop();
    if (!process.stdout.isTTY && alert.kind === 'breach') io.stdout.write(`${line}\n`);
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

  const version = policy.versionAt(realStart);
  const targets = {
    '999': version.calls['999'].target_ratio,
    '101': version.calls['101'].target_ratio,
  };
  const tick = setInterval(
    () => {
      void pipeline
        .flush()
        .catch((error: unknown) => log.error({ err: error }, 'store write failed'));
      live.advanceTo(simulatedNow());
      const [snapshot] = live.publishSnapshots();
      if (snapshot === undefined) return;
      const engine = live.engines.get(snapshot.force)!;
      const outstanding = {
        ringing: engine.ringingCalls().length,
        unattended: engine.outstandingIncidents().length,
        updatesOwed: engine.updatesOwed().length,
      };
      if (process.stdout.isTTY) {
        io.stdout.write(`\u001b[H\u001b[2J${renderView(snapshot, outstanding, recent, targets)}\n`);
      }
    },
    Math.min(config.batchMs, 1000),
  );
  const deadline = duration === undefined ? undefined : setTimeout(stop, duration * 1000);

  io.stderr.write(
    `callmon start: scenario ${scenario} at ${speed}x from ${formatUtc(realStart)}, store ${store.location}\n`,
  );
  let sequence = 0;
  try {
    const feed = liveFeed({ scenario, seed, speed, start: formatUtc(realStart) })[
      Symbol.asyncIterator
    ]();
    while (!stopping) {
      // The feed sleeps until its next line is due; a stop must not wait for it.
      const next = await Promise.race([feed.next(), stopped]);
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
    clearInterval(tick);
    if (deadline !== undefined) clearTimeout(deadline);
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
