import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { DASHBOARD_DIR, DASHBOARD_FILES } from '@callmon/dashboard-live';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface DashboardAsset {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * The dashboard's files, read once. They hold no data and no secret (the token stays in
 * the URL fragment, which browsers never send), so they are served without a token;
 * everything they show comes over the authenticated socket.
 */
export function dashboardAssets(dir = DASHBOARD_DIR): ReadonlyMap<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const [path, file] of Object.entries(DASHBOARD_FILES)) {
    const body = readFileSync(join(dir, file));
    assets.set(path, {
      body,
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': String(body.length),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    });
  }
  return assets;
}

/**
 * Serve the dashboard from the api's fastify instance: `/` and `/live/*`, public (see
 * above). The api's helmet headers (content security policy: scripts, styles and
 * sockets of this origin only) apply to them as to every route.
 */
export function registerDashboard(app: FastifyInstance, assets = dashboardAssets()): void {
  for (const [path, asset] of assets) {
    app.get(path, { schema: { hide: true } }, (_request, reply) => {
      reply.headers(asset.headers).send(asset.body);
    });
  }
}
