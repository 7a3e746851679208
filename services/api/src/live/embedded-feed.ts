import type { EventEmitter } from 'node:events';
import {
  answerWithinMs,
  type LiveAlert,
  type LiveEngine,
  type LiveSnapshot,
} from '@callmon/compliance';
import { bounded, type LiveBoard, type LiveFeed, type LiveFeedListener } from './live-feed.ts';

/** The in-process bus of the embedded mode (services/ingest LiveBus), structurally. */
type LiveBusLike = EventEmitter<{ alert: [LiveAlert]; snapshot: [LiveSnapshot] }>;

export interface EmbeddedFeedOptions {
  bus: LiveBusLike;
  /** The live engines by force (services/ingest LiveState.engines). */
  engines: ReadonlyMap<string, LiveEngine>;
  /** Feed ms per wall ms; default 1. */
  speed?: number;
}

/** A board straight from a force's live engine, as of the engine's time. */
export function boardOf(
  engine: LiveEngine,
  speed: number,
  snapshot = engine.snapshot(),
): LiveBoard {
  const now = engine.now;
  const version = engine.policy.versionAt(now);
  const target = (channel: '999' | '101') => ({
    withinMs: answerWithinMs(version, channel),
    ratio: version.calls[channel].target_ratio,
  });
  return {
    force: engine.force,
    snapshot,
    now,
    speed,
    targets: { '999': target('999'), '101': target('101') },
    ringing: bounded(engine.ringingCalls()),
    unattended: bounded(engine.outstandingIncidents().filter((incident) => incident.grade <= 2)),
    updatesOwed: bounded(engine.updatesOwed()),
  };
}

/**
 * The embedded feed: boards and alerts from the in-process live engines. A board is made
 * whenever the service publishes a snapshot on the bus, and fresh on demand for a join.
 */
export function embeddedLiveFeed(options: EmbeddedFeedOptions): LiveFeed & { close(): void } {
  const { bus, engines } = options;
  const speed = options.speed ?? 1;
  const listeners = new Set<LiveFeedListener>();
  const onAlert = (alert: LiveAlert) => {
    for (const listener of listeners) listener.alert(alert);
  };
  const onSnapshot = (snapshot: LiveSnapshot) => {
    const engine = engines.get(snapshot.force);
    if (engine === undefined || listeners.size === 0) return;
    const board = boardOf(engine, speed, snapshot);
    for (const listener of listeners) listener.board(board);
  };
  bus.on('alert', onAlert);
  bus.on('snapshot', onSnapshot);
  return {
    forces: () => [...engines.keys()].sort(),
    board: (force) => {
      const engine = engines.get(force);
      return engine === undefined ? undefined : boardOf(engine, speed);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      bus.off('alert', onAlert);
      bus.off('snapshot', onSnapshot);
      listeners.clear();
    },
  };
}
