import { describe, expect, it } from 'vitest';
import { ConsumerMetrics } from './consumer-metrics.ts';

describe('consumer metrics', () => {
  it('lag is the partition end at the last fetch less the committed offset', () => {
    const metrics = new ConsumerMetrics(() => 0);
    metrics.assigned([0, 1]);
    metrics.fetched(0, '500');
    expect(metrics.caughtUp()).toBe(false); // fetched, nothing committed yet
    metrics.committed(0, '200', 200, 40);
    metrics.committed(0, '350', 150, 10);
    expect(metrics.snapshot()).toMatchObject({
      partitions: [
        { partition: 0, committed: 350, highWatermark: 500, lag: 150, paused: false },
        { partition: 1, committed: null, highWatermark: null, lag: null, paused: false },
      ],
      lag: 150,
      chunks: 2,
      messages: 350,
      lastChunkSize: 150,
      chunkLatencyMs: { last: 10, max: 40, total: 50 },
    });
    metrics.committed(0, '500', 150, 5);
    expect(metrics.caughtUp()).toBe(true); // partition 1 never had anything to fetch
  });

  it('backpressure counts paused time, including a pause still running', () => {
    let now = 1_000;
    const metrics = new ConsumerMetrics(() => now);
    metrics.assigned([3]);
    metrics.paused(3);
    now += 700;
    metrics.paused(3); // a second failure of the same pause does not restart it
    now += 300;
    expect(metrics.snapshot().backpressureMs).toBe(1_000);
    expect(metrics.snapshot().partitions[0]!.paused).toBe(true);
    metrics.resumed(3);
    now += 5_000;
    expect(metrics.snapshot()).toMatchObject({
      backpressureMs: 1_000,
      partitions: [{ partition: 3, paused: false }],
    });
  });

  it('a rebalance keeps the partitions still owned and forgets the others', () => {
    const metrics = new ConsumerMetrics(() => 0);
    metrics.assigned([0, 1]);
    metrics.fetched(1, '10');
    metrics.committed(1, '10', 10, 1);
    metrics.assigned([1, 2]);
    expect(metrics.snapshot()).toMatchObject({
      rebalances: 2,
      partitions: [
        { partition: 1, committed: 10, lag: 0 },
        { partition: 2, committed: null },
      ],
    });
  });
});
