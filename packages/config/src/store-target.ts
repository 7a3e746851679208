import type { CallmonConfig } from './config.ts';

/** Where the configuration puts the store: `openStore`'s options, in either mode. */
export type StoreTarget =
  | { dataDir: string }
  | { url: string; username?: string; password?: string; database?: string };

/**
 * The store the configuration names: a ClickHouse server when `clickhouseUrl` is set,
 * else the embedded chDB store in `dataDir` (architecture.md: mode by configuration).
 */
export function storeTarget(config: CallmonConfig): StoreTarget {
  if (config.clickhouseUrl === undefined) return { dataDir: config.dataDir };
  const target: StoreTarget = { url: config.clickhouseUrl };
  if (config.clickhouseUser !== undefined) target.username = config.clickhouseUser;
  if (config.clickhousePassword !== undefined) target.password = config.clickhousePassword;
  if (config.clickhouseDatabase !== undefined) target.database = config.clickhouseDatabase;
  return target;
}

/** The store named for messages: never the URL's user or password. */
export function describeStoreTarget(config: CallmonConfig): string {
  return config.clickhouseUrl === undefined
    ? `the store in ${config.dataDir}`
    : `ClickHouse at ${new URL(config.clickhouseUrl).origin}`;
}
