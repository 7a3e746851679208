/** One assigned partition as the consumer last saw it. */
export interface PartitionMetrics {
  partition: number;
  /** The next offset to read: everything before it is durable and committed. */
  committed: number | null;
  /** The partition's end (high watermark) at the last fetch. */
  highWatermark: number | null;
  /** `highWatermark − committed`: messages waiting, as of the last fetch. */
  lag: number | null;
  /** Paused because its chunk cannot be written. */
  paused: boolean;
}

export interface ConsumerMetricsSnapshot {
  partitions: PartitionMetrics[];
  /** Sum of the partitions' lag (unknown partitions count 0). */
  lag: number;
  /** Chunks written and committed, and the messages in them. */
  chunks: number;
  messages: number;
  /** Messages in the last committed chunk. */
  lastChunkSize: number;
  /** Handling time of chunks (from first attempt to durable), in ms. */
  chunkLatencyMs: { last: number; max: number; total: number };
  /** Time partitions spent paused behind a failing write (so far, including now). */
  backpressureMs: number;
  /** Failed attempts to write a chunk. */
  writeFailures: number;
  /** Assignments received (the first join counts). */
  rebalances: number;
}

/**
 * What the consumer exposes about itself: lag, chunk size and latency, backpressure.
 * Plain numbers, readable by code (a Prometheus endpoint, a log line, a test).
 */
export class ConsumerMetrics {
  private readonly partitions = new Map<number, PartitionMetrics>();
  private chunks = 0;
  private messages = 0;
  private lastChunkSize = 0;
  private readonly latency = { last: 0, max: 0, total: 0 };
  private backpressureDone = 0;
  private readonly pausedSince = new Map<number, number>();
  private writeFailures = 0;
  private rebalances = 0;

  constructor(private readonly now: () => number) {}

  assigned(partitions: readonly number[]): void {
    this.rebalances++;
    const keep = new Set(partitions);
    for (const partition of this.partitions.keys()) {
      if (!keep.has(partition)) this.partitions.delete(partition);
    }
    for (const partition of partitions) {
      if (!this.partitions.has(partition)) {
        this.partitions.set(partition, {
          partition,
          committed: null,
          highWatermark: null,
          lag: null,
          paused: false,
        });
      }
    }
  }

  fetched(partition: number, highWatermark: string): void {
    const metrics = this.partitionOf(partition);
    metrics.highWatermark = Number(highWatermark);
    if (metrics.committed !== null)
      metrics.lag = Math.max(0, metrics.highWatermark - metrics.committed);
  }

  committed(partition: number, nextOffset: string, size: number, latencyMs: number): void {
    const metrics = this.partitionOf(partition);
    metrics.committed = Number(nextOffset);
    if (metrics.highWatermark !== null) {
      metrics.lag = Math.max(0, metrics.highWatermark - metrics.committed);
    }
    this.chunks++;
    this.messages += size;
    this.lastChunkSize = size;
    this.latency.last = latencyMs;
    this.latency.max = Math.max(this.latency.max, latencyMs);
    this.latency.total += latencyMs;
  }

  writeFailed(): void {
    this.writeFailures++;
  }

  paused(partition: number): void {
    if (this.pausedSince.has(partition)) return;
    this.pausedSince.set(partition, this.now());
    this.partitionOf(partition).paused = true;
  }

  resumed(partition: number): void {
    const since = this.pausedSince.get(partition);
    if (since === undefined) return;
    this.pausedSince.delete(partition);
    this.backpressureDone += this.now() - since;
    this.partitionOf(partition).paused = false;
  }

  /** Every partition whose end is known has been read and committed up to it. */
  caughtUp(): boolean {
    for (const metrics of this.partitions.values()) {
      if (metrics.lag !== null && metrics.lag > 0) return false;
      if (metrics.highWatermark !== null && metrics.committed === null) return false;
    }
    return true;
  }

  snapshot(): ConsumerMetricsSnapshot {
    const now = this.now();
    let backpressureMs = this.backpressureDone;
    for (const since of this.pausedSince.values()) backpressureMs += now - since;
    const partitions = [...this.partitions.values()]
      .map((metrics) => ({ ...metrics }))
      .sort((a, b) => a.partition - b.partition);
    return {
      partitions,
      lag: partitions.reduce((sum, metrics) => sum + (metrics.lag ?? 0), 0),
      chunks: this.chunks,
      messages: this.messages,
      lastChunkSize: this.lastChunkSize,
      chunkLatencyMs: { ...this.latency },
      backpressureMs,
      writeFailures: this.writeFailures,
      rebalances: this.rebalances,
    };
  }

  private partitionOf(partition: number): PartitionMetrics {
    let metrics = this.partitions.get(partition);
    if (metrics === undefined) {
      metrics = { partition, committed: null, highWatermark: null, lag: null, paused: false };
      this.partitions.set(partition, metrics);
    }
    return metrics;
  }
}
