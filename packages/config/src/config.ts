import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * callmon's configuration: env vars over an optional JSON config file over defaults.
 * Mode is chosen here, never by code edits (architecture.md): no `clickhouseUrl` means
 * the embedded chDB store in `dataDir`; no `kafkaBrokers` means the built-in sources.
 */
/** Store batch rows when `batchRows` is not set, by source. */
// Kafka: 25,000 measured ≈15 % less CPU per event than 10,000 (fewer, larger parts to
// write and merge; bench/kafka-ingest.bench.ts), and a chunk ends at the end of a fetch
// that reaches the partition's end anyway, so a slow stream is not held back by it.
export const DEFAULT_BATCH_ROWS = { file: 50_000, stream: 25_000 } as const;

export const configSchema = z.strictObject({
  /** Folder of the embedded store (chDB). */
  dataDir: z.string().min(1).default('./data'),
  /** A ClickHouse server (`http://host:8123`); replaces the embedded store when set. */
  clickhouseUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  clickhouseUser: z.string().optional(),
  clickhousePassword: z.string().optional(),
  clickhouseDatabase: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .optional(),
  /** Comma-separated Kafka brokers; enables the Kafka source. */
  kafkaBrokers: z.string().optional(),
  kafkaTopic: z.string().min(1).default('callmon.events.v1'),
  /**
   * How long the group waits for a silent consumer before giving its partitions to
   * another (also how long a restarted one waits for its dead predecessor's session).
   * Kafka's broker bounds: 6 s to 30 min by default.
   */
  kafkaSessionTimeoutMs: z.number().int().min(6000).max(1_800_000).default(30_000),
  /** A force policy file (JSON, metrics.md §1); default `uk-default-v1`. */
  policyFile: z.string().optional(),
  /**
   * Store batch flush: rows and milliseconds, whichever comes first. Rows default by
   * source ({@link DEFAULT_BATCH_ROWS}): a file backfill writes larger batches (fewer
   * parts for the engine to create and merge) than a stream, whose batches end
   * with each fetch that reaches the end anyway.
   */
  batchRows: z.number().int().min(1).max(1_000_000).optional(),
  batchMs: z.number().int().min(1).max(60_000).default(1000),
  /**
   * Worker threads that parse file lines into store rows beside the pipeline's thread
   * (embedded store only); 0 parses on the pipeline's thread. Default: one per CPU, at
   * most two.
   */
  parseWorkers: z.number().int().min(0).max(16).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where the api (REST, socket.io, dashboard) listens. */
  apiHost: z.string().min(1).default('127.0.0.1'),
  apiPort: z.number().int().min(0).max(65_535).default(8080),
  /**
   * The key that signs and checks access tokens (≥ 32 bytes). Prefer the file form: an
   * env var shows in process listings. Embedded, with neither set, callmon keeps a
   * generated one in the data folder (see token-secret.ts).
   */
  tokenSecret: z.string().min(32, 'must be at least 32 characters').optional(),
  tokenSecretFile: z.string().min(1).optional(),
});
export type CallmonConfig = z.infer<typeof configSchema>;

/** Env var → config key. Numbers are converted before validation. */
const ENV_KEYS: Record<string, keyof CallmonConfig> = {
  CALLMON_DATA_DIR: 'dataDir',
  CLICKHOUSE_URL: 'clickhouseUrl',
  CLICKHOUSE_USER: 'clickhouseUser',
  CLICKHOUSE_PASSWORD: 'clickhousePassword',
  CLICKHOUSE_DATABASE: 'clickhouseDatabase',
  KAFKA_BROKERS: 'kafkaBrokers',
  CALLMON_KAFKA_TOPIC: 'kafkaTopic',
  CALLMON_KAFKA_SESSION_TIMEOUT_MS: 'kafkaSessionTimeoutMs',
  CALLMON_POLICY_FILE: 'policyFile',
  CALLMON_BATCH_ROWS: 'batchRows',
  CALLMON_BATCH_MS: 'batchMs',
  CALLMON_PARSE_WORKERS: 'parseWorkers',
  CALLMON_LOG_LEVEL: 'logLevel',
  CALLMON_API_HOST: 'apiHost',
  CALLMON_API_PORT: 'apiPort',
  CALLMON_TOKEN_SECRET: 'tokenSecret',
  CALLMON_TOKEN_SECRET_FILE: 'tokenSecretFile',
};
const NUMERIC = new Set<keyof CallmonConfig>([
  'batchRows',
  'batchMs',
  'parseWorkers',
  'apiPort',
  'kafkaSessionTimeoutMs',
]);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Load the configuration. `CALLMON_CONFIG` (or `file`) names an optional JSON file; env
 * vars override it; `overrides` (from command-line flags) override both. Every invalid
 * value is a ConfigError naming its source and key.
 */
export function loadConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string; overrides?: Partial<CallmonConfig> } = {},
): CallmonConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CALLMON_CONFIG;
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error('expected a JSON object');
      }
      fromFile = parsed as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid: ${(error as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const key of Object.keys(fromFile)) sources[key] = `config file ${file}`;
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    fromEnv[key] = NUMERIC.has(key) && /^\d+$/.test(value) ? Number(value) : value;
    sources[key] = `env ${name}`;
  }
  const overrides = Object.fromEntries(
    Object.entries(options.overrides ?? {}).filter(([, value]) => value !== undefined),
  );
  for (const key of Object.keys(overrides)) sources[key] = 'command line';
  const result = configSchema.safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key =
      issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.map(String).join('.');
    const source = sources[key.split('.')[0] ?? ''] ?? 'config';
    throw new ConfigError(`invalid configuration: ${key || '(root)'} (${source}) ${issue.message}`);
  }
  return result.data;
}
