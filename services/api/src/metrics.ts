import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus registry, served at /metrics: Node's default metrics, the
 * API's request durations, and whatever other parts of the process (ingest, socket.io)
 * register on it. One per process, so building several apps (tests) shares it.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Labelled by route pattern, never by URL: a force or call id must not become a label. */
export const requestDuration = new Histogram({
  name: 'callmon_api_request_duration_seconds',
  help: 'REST request durations by route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [metricsRegistry],
});
