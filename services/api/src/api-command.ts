import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type CommandIo,
  integerFlag,
  loadConfig,
  parseFlags,
  resolveTokenSecret,
  storeTarget,
} from '@callmon/config';
import { createLog, loadPolicy, systemClock } from '@callmon/ingest';
import { LIVE_TOPIC } from '@callmon/queue';
import { openStore } from '@callmon/store';
import { buildApi } from './build-api.ts';
import { DEFAULT_RATE_LIMIT } from './deps.ts';
import { attachLiveChannel, kafkaLiveFeed, registerDashboard } from './live/index.ts';
import type { LiveFeed } from './live/live-feed.ts';
import { type LiveView, unavailableLiveView } from './live-view.ts';

export const API_HELP = `Usage: callmon api [--data-dir DIR | --clickhouse URL] [--host H] [--port P]
                  [--kafka BROKERS [--live-topic T]] [--policy FILE] [--rate-limit N]

Serve the REST API (services/api/README.md) over the store until stopped (Ctrl-C):
reports, timelines, rejected inputs and data quality, /healthz, /readyz, /metrics and
the OpenAPI document at /openapi.json. With --kafka (the distributed mode) it also
serves the live view — the live route, the socket.io channel and the dashboard — from
the live topic that \`callmon ingest --kafka\` publishes, so any number of api nodes
show the same view; breach acknowledgements are recorded in the store, and nodes on one
store read each other's every second. Without it the live route answers 503
(\`callmon start\` serves live state embedded).

Options:
  --data-dir DIR    embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --clickhouse URL  a ClickHouse server instead (env CLICKHOUSE_URL; CLICKHOUSE_USER,
                    CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE)
  --host H          listen address (default 127.0.0.1, env CALLMON_API_HOST)
  --port P          listen port, 0 for any free one (default 8080, env CALLMON_API_PORT)
  --kafka BROKERS   read live boards and alerts from Kafka (only when given: an api
                    node's role is chosen explicitly, not by KAFKA_BROKERS)
  --live-topic T    the live topic (default ${LIVE_TOPIC})
  --policy FILE     force policy file (JSON); default uk-default-v1
  --rate-limit N    requests per minute per token holder or address (default ${DEFAULT_RATE_LIMIT.max})
  --help            this text

Tokens: \`callmon token create\`, with the same secret (CALLMON_TOKEN_SECRET_FILE,
CALLMON_TOKEN_SECRET, or the one generated in the data folder).
`;

export const NO_LIVE_SOURCE =
  'this api has no live source: start it with --kafka to read the live topic, or use `callmon start`';

export async function apiCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    'data-dir': { type: 'string' },
    clickhouse: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    policy: { type: 'string' },
    'rate-limit': { type: 'string' },
    kafka: { type: 'string' },
    'live-topic': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(API_HELP);
    return 0;
  }
  const port = values.port === undefined ? undefined : integerFlag(values.port, 'port', 0, 65_535);
  const perMinute =
    values['rate-limit'] === undefined
      ? DEFAULT_RATE_LIMIT.max
      : integerFlag(values['rate-limit'], 'rate-limit', 1, 10_000_000);
  const config = loadConfig({
    overrides: {
      dataDir: values['data-dir'],
      clickhouseUrl: values.clickhouse,
      apiHost: values.host,
      apiPort: port,
    },
  });
  const policy = await loadPolicy(values.policy ?? config.policyFile);
  const tokenSecret = resolveTokenSecret(config);
  const log = createLog(config.logLevel, 'api');

  const store = await openStore(storeTarget(config));
  // Each node reads the whole live topic: a group of its own, never shared.
  let feed: (LiveFeed & { close(): Promise<void> }) | undefined;
  try {
    feed =
      values.kafka === undefined
        ? undefined
        : await kafkaLiveFeed({
            brokers: values.kafka,
            topic: values['live-topic'] ?? LIVE_TOPIC,
            groupId: `callmon-api-${hostname()}-${randomUUID()}`,
            log,
          });
  } catch (error) {
    await store.close();
    io.stderr.write(`callmon api: cannot read the live topic: ${(error as Error).message}\n`);
    return 1;
  }
  const app = await buildApi({
    store,
    liveView: feed === undefined ? unavailableLiveView(NO_LIVE_SOURCE) : feedLiveView(feed),
    tokenSecret,
    clock: systemClock,
    policy,
    log,
    rateLimit: { max: perMinute, timeWindowMs: 60_000 },
  });
  let channel: { close(): Promise<void> } | undefined;
  if (feed !== undefined) {
    registerDashboard(app);
    // Several nodes share the store: each reads the others' acknowledgements every second.
    channel = attachLiveChannel(app.server, {
      feed,
      store,
      pollAcknowledgementsMs: 1000,
      tokenSecret,
      clock: systemClock,
      log,
    });
  }
  try {
    const address = await app.listen({ host: config.apiHost, port: config.apiPort });
    io.stderr.write(`callmon api: listening on ${address}, store ${store.location}\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    io.stderr.write('callmon api: stopping\n');
  } finally {
    await channel?.close();
    await app.close();
    await feed?.close();
    await store.close();
  }
  return 0;
}

/** The REST live route over a feed: the §8 snapshot of each force's latest board. */
function feedLiveView(feed: LiveFeed): LiveView {
  return {
    snapshot: (force) => feed.board(force)?.snapshot,
    forces: () => [...feed.forces()],
  };
}
