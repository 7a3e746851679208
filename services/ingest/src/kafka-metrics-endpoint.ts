import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KafkaIngestMetrics } from './kafka-ingest.ts';

/**
 * A consumer's metrics in Prometheus's text format, for scraping an ingest member (which
 * has no api of its own): lag per partition, chunk size and latency, backpressure time,
 * write failures, rebalances and the accounting of every message. Hand-rendered: a dozen
 * series need no client library.
 */
export function renderIngestMetrics(topic: string, metrics: KafkaIngestMetrics): string {
  const lines: string[] = [];
  const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const t = `topic="${label(topic)}"`;
  const family = (name: string, type: 'gauge' | 'counter', help: string, samples: string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  const known = metrics.partitions.filter((partition) => partition.lag !== null);
  family(
    'callmon_ingest_lag',
    'gauge',
    'Messages waiting per partition: high watermark minus committed offset, at the last fetch.',
    known.map((p) => `callmon_ingest_lag{${t},partition="${p.partition}"} ${p.lag}`),
  );
  family(
    'callmon_ingest_partition_paused',
    'gauge',
    '1 while the partition is paused behind a failing store write.',
    metrics.partitions.map(
      (p) => `callmon_ingest_partition_paused{${t},partition="${p.partition}"} ${p.paused ? 1 : 0}`,
    ),
  );
  const single = (name: string, type: 'gauge' | 'counter', help: string, value: number) =>
    family(name, type, help, [`${name}{${t}} ${value}`]);
  single('callmon_ingest_chunks_total', 'counter', 'Chunks written and committed.', metrics.chunks);
  single(
    'callmon_ingest_messages_total',
    'counter',
    'Messages in committed chunks.',
    metrics.messages,
  );
  single(
    'callmon_ingest_last_chunk_size',
    'gauge',
    'Messages in the last committed chunk.',
    metrics.lastChunkSize,
  );
  single(
    'callmon_ingest_chunk_latency_ms_last',
    'gauge',
    'Time from first write attempt to durable, last chunk (ms).',
    metrics.chunkLatencyMs.last,
  );
  single(
    'callmon_ingest_chunk_latency_ms_max',
    'gauge',
    'Longest chunk handling time so far (ms).',
    metrics.chunkLatencyMs.max,
  );
  single(
    'callmon_ingest_chunk_latency_ms_sum',
    'counter',
    'Sum of chunk handling times (ms); divide by chunks_total for the mean.',
    metrics.chunkLatencyMs.total,
  );
  single(
    'callmon_ingest_backpressure_ms_total',
    'counter',
    'Time partitions spent paused behind a failing store write (ms).',
    metrics.backpressureMs,
  );
  single(
    'callmon_ingest_write_failures_total',
    'counter',
    'Failed attempts to write a chunk to the store.',
    metrics.writeFailures,
  );
  single(
    'callmon_ingest_rebalances_total',
    'counter',
    'Partition assignments received (the first join counts).',
    metrics.rebalances,
  );
  family(
    'callmon_ingest_events_total',
    'counter',
    'Messages of committed chunks by outcome (events.md accounting).',
    (
      [
        ['accepted', metrics.accepted],
        ['duplicate', metrics.duplicates],
        ['conflict', metrics.conflicts],
        ['rejected', metrics.rejected],
      ] as const
    ).map(([outcome, count]) => `callmon_ingest_events_total{${t},outcome="${outcome}"} ${count}`),
  );
  single(
    'callmon_ingest_live_forces',
    'gauge',
    'Forces whose live engine this member holds.',
    metrics.liveForces,
  );
  return `${lines.join('\n')}\n`;
}

/** Serve `GET /metrics` on host:port (0 = any free port); resolves once listening. */
export async function serveIngestMetrics(
  host: string,
  port: number,
  render: () => string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
      .end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
