import { join } from 'node:path';

/**
 * The supervisor's live dashboard: static files (no build step), served by the api from
 * the same origin as the socket.io live channel. See ../README.md.
 */
export const DASHBOARD_DIR = join(import.meta.dirname, '..', 'public');

/** URL path → file in DASHBOARD_DIR. Everything else is not the dashboard's. */
export const DASHBOARD_FILES: Readonly<Record<string, string>> = {
  '/': 'index.html',
  '/live/app.js': 'app.js',
  '/live/style.css': 'style.css',
};
