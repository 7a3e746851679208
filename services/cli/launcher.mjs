// The `callmon` command's start-up, in plain JavaScript so that it needs no TypeScript
// loader. Running the TypeScript sources through tsx costs ≈ 0.55 s of every command
// (tsx registers its loader in ≈ 0.3 s, then resolves every module through it), and
// several CPU-seconds across a test suite that starts the CLI hundreds of times. So the
// CLI runs from a bundle of the workspace's sources, made by esbuild on first use and
// kept under node_modules/.cache/callmon-cli/<key>/, where the key hashes the content of
// every source and manifest it could depend on: an edited file makes a new bundle on the
// next run, never a stale one. Third-party packages stay outside the bundle, imported
// from where Node resolves them for the file that imports them (pnpm gives each workspace
// package its own dependencies). Should bundling fail, the CLI runs through tsx as before.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = join(ROOT, 'services/cli/src/main.ts');
// The ingest's parse worker, bundled alongside so that a worker starts from a file instead
// of esbuild bundling it at every process start (services/ingest/src/parse-workers.ts).
const PARSE_WORKER = join(ROOT, 'services/ingest/src/parse-worker.ts');
const PARSE_WORKER_MODULE = Symbol.for('callmon.parseWorkerModule');
const WORKSPACE_DIRS = ['packages', 'services', 'dashboards'];
const SOURCE = /\.(ts|mts|mjs|js|json)$/;
// Tests are never bundled: editing one must not make a new bundle, nor be read at start-up.
const TEST = /\.test\.ts$/;
const TOP_LEVEL_FILES = [
  'package.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'tsconfig.base.json',
];

/**
 * The files a bundle of the CLI can depend on, relative to `root`, sorted: each workspace
 * package's manifest and tsconfig and everything under its `src` but tests, the top-level manifests,
 * and this file (it decides how the bundle is made).
 */
export function sourceFiles(root) {
  const files = TOP_LEVEL_FILES.filter((name) => existsSync(join(root, name)));
  for (const group of WORKSPACE_DIRS) {
    if (!existsSync(join(root, group))) continue;
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const base = join(group, entry.name);
      for (const name of ['package.json', 'tsconfig.json']) {
        if (existsSync(join(root, base, name))) files.push(join(base, name));
      }
      if (!existsSync(join(root, base, 'src'))) continue;
      for (const file of readdirSync(join(root, base, 'src'), { recursive: true })) {
        if (SOURCE.test(file) && !TEST.test(file)) files.push(join(base, 'src', file));
      }
    }
  }
  const self = relative(root, fileURLToPath(import.meta.url));
  if (!isAbsolute(self) && !self.startsWith('..')) files.push(self);
  return [...new Set(files)].sort();
}

/** The bundle's key: a hash of every file it can depend on, names and contents. */
export function sourceKey(root) {
  const hash = createHash('sha256');
  for (const file of sourceFiles(root)) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(root, file)))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

/**
 * esbuild: the workspace's TypeScript bundled, one chunk per lazily loaded command (the
 * CLI loads a service only when its command runs); every other package left to Node,
 * named by the file it resolves to from the importing source; `import.meta.url` and
 * `import.meta.dirname` kept as they are in each source file, which finds files next to
 * itself (the parse worker's module, the dashboard's assets, kafkajs's internals).
 */
async function bundle(outdir) {
  const { build } = await import('esbuild');
  const workspace = {
    name: 'callmon-workspace',
    setup(builder) {
      builder.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'workspace' || args.path.startsWith('@callmon/')) return undefined;
        const resolved = await builder.resolve(args.path, {
          resolveDir: args.resolveDir,
          kind: args.kind,
          importer: args.importer,
          pluginData: 'workspace',
        });
        if (resolved.errors.length > 0 || resolved.external || !isAbsolute(resolved.path)) {
          return { path: args.path, external: true };
        }
        return { path: pathToFileURL(resolved.path).href, external: true };
      });
      builder.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const contents = text
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)));
        return { contents, loader: 'ts' };
      });
    },
  };
  await build({
    entryPoints: { main: ENTRY, 'parse-worker': PARSE_WORKER },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    plugins: [workspace],
    logLevel: 'silent',
  });
}

/** The bundle for the sources as they are now, made if missing: its folder. */
async function bundled(cacheRoot = join(ROOT, 'node_modules/.cache/callmon-cli')) {
  const dir = join(cacheRoot, sourceKey(ROOT));
  const entry = join(dir, 'main.mjs');
  if (!existsSync(entry)) {
    // Made aside and renamed into place, so that a concurrent run (tests start many) never
    // sees half a bundle; the loser of the race keeps the winner's.
    const building = `${dir}.${process.pid}.tmp`;
    try {
      await bundle(building);
      renameSync(building, dir);
    } catch (error) {
      rmSync(building, { recursive: true, force: true });
      if (!existsSync(entry)) throw error;
    }
  }
  return dir;
}

/** Run the CLI with `argv`: from the bundle, or through tsx when bundling is impossible. */
export async function launch(argv) {
  let entry;
  try {
    const dir = await bundled(process.env.CALLMON_CLI_CACHE || undefined);
    entry = pathToFileURL(join(dir, 'main.mjs')).href;
    globalThis[PARSE_WORKER_MODULE] = pathToFileURL(join(dir, 'parse-worker.mjs')).href;
  } catch (error) {
    process.stderr.write(
      `callmon: running from the TypeScript sources (bundling failed: ${error.message})\n`,
    );
    const { register } = await import('tsx/esm/api');
    register();
    entry = pathToFileURL(ENTRY).href;
  }
  const { runCli } = await import(entry);
  await runCli(argv);
}
