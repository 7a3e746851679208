import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';

/** Embedded: chDB on a local data folder (the default mode). */
export interface EmbeddedStoreOptions {
  dataDir: string;
}

/** Distributed: a ClickHouse server or cluster over HTTP(S). */
export interface ServerStoreOptions {
  url: string;
  username?: string;
  password?: string;
  /** Created if missing. Default `default`. */
  database?: string;
  /** Per-request timeout; ClickHouse requests fail fast rather than hang a batch. */
  requestTimeoutMs?: number;
}

export type StoreOptions = EmbeddedStoreOptions | ServerStoreOptions;

export interface Connection {
  readonly client: ClickHouseClient;
  readonly mode: 'embedded' | 'server';
  /** Where the data lives, for logs and errors: a folder or a URL without credentials. */
  readonly location: string;
  /**
   * Embedded only: a folder of this process's own for batch files that the engine reads
   * with `file()` (inside the data folder, which chDB locks to one process).
   */
  readonly insertDir?: string;
  /** Close the client; for chDB, also wait until the engine has let go of the folder. */
  close(): Promise<void>;
}

/**
 * libchdb binds one data folder per process, and a second connection on another folder
 * while one is live is refused deep in the addon. Refuse it here instead, with a message
 * that says what to do.
 */
let embeddedFolder: string | null = null;

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** Under the data folder: batch files on their way into the engine (embedded mode). */
const INSERT_DIR = 'insert-batches';

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function connect(options: StoreOptions): Promise<Connection> {
  return 'dataDir' in options ? connectEmbedded(options.dataDir) : connectServer(options);
}

async function connectEmbedded(dataDir: string): Promise<Connection> {
  const folder = resolve(dataDir);
  if (embeddedFolder !== null) {
    throw new Error(
      `a chDB store is already open on ${embeddedFolder} in this process; chDB binds one data ` +
        'folder per process, so share that store or close it before opening another',
    );
  }
  embeddedFolder = folder;
  try {
    await mkdir(folder, { recursive: true });
    const client = await createChdbClient(folder);
    const { drainPending } = await import('chdb');
    // The engine holds the folder's lock now, so whatever is in here was left by a
    // process that died mid-insert.
    const insertDir = join(folder, INSERT_DIR);
    try {
      await rm(insertDir, { recursive: true, force: true });
      await mkdir(insertDir);
    } catch (error) {
      await client.close();
      throw error;
    }
    return {
      client,
      mode: 'embedded',
      location: folder,
      insertDir,
      async close() {
        try {
          await client.close();
          // close() returns before the engine has finished with anything still running
          // (an abandoned or timed-out query); only then is the folder free.
          await drainPending();
        } finally {
          embeddedFolder = null;
        }
      },
    };
  } catch (error) {
    embeddedFolder = null;
    throw error;
  }
}

/**
 * A `@clickhouse/client` running on chDB in this process. Loaded only when asked for,
 * so that a server-mode process never maps libchdb.
 */
export async function createChdbClient(folder: string): Promise<ClickHouseClient> {
  const { createChdbConnection } = await import('chdb/connection');
  return createClient({
    // chdb 3.4 types its connection against @clickhouse/client-common 1.23.0, while
    // @clickhouse/client 1.23.1 carries its own copy of those types; same shape at run time.
    connection: createChdbConnection({ path: folder }) as unknown as ClientConnection,
  });
}

/** A `@clickhouse/client` for a server; `database` must exist unless it is `default`. */
export function createServerClient(options: ServerStoreOptions): ClickHouseClient {
  return createClient({
    url: options.url,
    username: options.username ?? 'default',
    password: options.password ?? '',
    database: options.database ?? 'default',
    request_timeout: options.requestTimeoutMs ?? 30_000,
    // Query parameters go in the URL unless they are large (a batch's ids for the
    // duplicate check); then in a multipart body, which no proxy truncates.
    use_multipart_params_auto: true,
  });
}

async function connectServer(options: ServerStoreOptions): Promise<Connection> {
  const database = options.database ?? 'default';
  if (!DATABASE_NAME.test(database)) {
    throw new Error(`database name ${JSON.stringify(database)} is not a plain identifier`);
  }
  if (database !== 'default') {
    // The client names its database on every request, so it must exist before the
    // client that uses it can do anything at all.
    const bootstrap = createServerClient({ ...options, database: 'default' });
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } finally {
      await bootstrap.close();
    }
  }
  const client = createServerClient(options);
  const url = new URL(options.url);
  url.username = '';
  url.password = '';
  return {
    client,
    mode: 'server',
    location: `${url.origin}${url.pathname.replace(/\/$/, '')} database ${database}`,
    close: () => client.close(),
  };
}
