import type { LiveSnapshot } from '@callmon/compliance';

/**
 * Where the REST live route reads a force's §8 snapshot from. Embedded (`callmon start`):
 * the in-process live engines ({@link engineLiveView}). Distributed: whatever keeps the
 * latest snapshot per force from the live topic. The route never computes one itself:
 * live figures come from the live engine, so REST and socket show the same numbers.
 */
export interface LiveView {
  /** The current snapshot of a force, or undefined when there is no live state for it yet. */
  snapshot(force: string): LiveSnapshot | undefined;
  /** Forces with live state. */
  forces(): string[];
  /**
   * Set when this node has no live source at all (e.g. a standalone `callmon api` over
   * a store): the live route answers 503 with this text rather than pretending a force
   * is quiet.
   */
  readonly unavailable?: string;
}

/** Where snapshots are published: services/ingest `LiveBus`, structurally. */
export interface SnapshotSource {
  on(event: 'snapshot', listener: (snapshot: LiveSnapshot) => void): unknown;
  off(event: 'snapshot', listener: (snapshot: LiveSnapshot) => void): unknown;
}

/**
 * The snapshots a live service publishes (services/ingest `LiveBus`, each tick of
 * `callmon start`), latest per force. A request costs a map look-up, and REST shows
 * exactly what the socket channel pushed; the snapshot is as of the last tick.
 */
export function publishedLiveView(bus: SnapshotSource): LiveView & { close(): void } {
  const latest = new Map<string, LiveSnapshot>();
  const keep = (snapshot: LiveSnapshot) => {
    latest.set(snapshot.force, snapshot);
  };
  bus.on('snapshot', keep);
  return {
    snapshot: (force) => latest.get(force),
    forces: () => [...latest.keys()].sort(),
    close: () => {
      bus.off('snapshot', keep);
    },
  };
}

/**
 * A view over live engines keyed by force (services/ingest `LiveState.engines`), each
 * snapshot computed on request: always current, but a week's window of a large force
 * costs tens of ms, so a busy node should serve {@link publishedLiveView} instead.
 */
export function engineLiveView(
  engines: ReadonlyMap<string, { snapshot(): LiveSnapshot }>,
): LiveView {
  return {
    snapshot: (force) => engines.get(force)?.snapshot(),
    forces: () => [...engines.keys()].sort(),
  };
}

/** No live source on this node: the live route answers 503, saying why. */
export function unavailableLiveView(reason: string): LiveView {
  return { snapshot: () => undefined, forces: () => [], unavailable: reason };
}
