import { describe, expect, it } from 'vitest';
import type { KafkaIngestMetrics } from './kafka-ingest.ts';
import { renderIngestMetrics, serveIngestMetrics } from './kafka-metrics-endpoint.ts';

const metrics: KafkaIngestMetrics = {
  partitions: [
    { partition: 0, committed: 120, highWatermark: 150, lag: 30, paused: true },
    { partition: 1, committed: null, highWatermark: null, lag: null, paused: false },
  ],
  lag: 30,
  chunks: 4,
  messages: 120,
  lastChunkSize: 20,
  chunkLatencyMs: { last: 35, max: 80, total: 190 },
  backpressureMs: 30_250,
  writeFailures: 7,
  rebalances: 2,
  accepted: 100,
  duplicates: 9,
  conflicts: 1,
  rejected: 10,
  rejectedByReason: { invalid_json: 10 },
  liveForces: 3,
  restoredForces: 3,
  restoredEvents: 500,
};

/** name{labels} value → value, from the text format. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ingest metrics in the Prometheus text format', () => {
  const text = renderIngestMetrics('callmon.events.v1', metrics);
  const t = 'topic="callmon.events.v1"';

  it('gives lag per partition, only where it is known', () => {
    expect(sample(text, `callmon_ingest_lag{${t},partition="0"}`)).toBe(30);
    expect(sample(text, `callmon_ingest_lag{${t},partition="1"}`)).toBeUndefined();
    expect(sample(text, `callmon_ingest_partition_paused{${t},partition="0"}`)).toBe(1);
    expect(sample(text, `callmon_ingest_partition_paused{${t},partition="1"}`)).toBe(0);
  });

  it('gives chunk size and latency, backpressure and the accounting of every message', () => {
    expect(sample(text, `callmon_ingest_last_chunk_size{${t}}`)).toBe(20);
    expect(sample(text, `callmon_ingest_chunk_latency_ms_sum{${t}}`)).toBe(190);
    expect(sample(text, `callmon_ingest_backpressure_ms_total{${t}}`)).toBe(30_250);
    expect(sample(text, `callmon_ingest_write_failures_total{${t}}`)).toBe(7);
    const outcomes = ['accepted', 'duplicate', 'conflict', 'rejected'].map((outcome) =>
      sample(text, `callmon_ingest_events_total{${t},outcome="${outcome}"}`),
    );
    expect(outcomes).toEqual([100, 9, 1, 10]);
    // The outcomes add up to the messages committed.
    expect(outcomes.reduce((sum, count) => sum! + count!, 0)).toBe(metrics.messages);
  });

  it('declares every family once, with HELP and TYPE', () => {
    const types = text.split('\n').filter((line) => line.startsWith('# TYPE '));
    const names = types.map((line) => line.split(' ')[2]);
    expect(new Set(names).size).toBe(names.length);
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(names).toContain(line.split(/[{ ]/)[0]);
    }
  });

  it('serves GET /metrics and answers 404 for anything else', async () => {
    const endpoint = await serveIngestMetrics('127.0.0.1', 0, () => text);
    try {
      const ok = await fetch(endpoint.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await ok.text()).toBe(text);
      expect((await fetch(endpoint.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await endpoint.close();
    }
  });
});
