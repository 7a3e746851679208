import type {
  LiveAlert,
  LiveSnapshot,
  OutstandingIncident,
  RingingCall,
  UpdateOwed,
} from '@callmon/compliance';

/** A list cut to a bound, with the full count, so a bad hour cannot flood a wallboard. */
export interface Bounded<T> {
  items: T[];
  total: number;
}

/** What a supervisor's screen needs for one force at one instant of feed time. */
export interface LiveBoard {
  force: string;
  /** The §8 snapshot (metrics.md), exactly as the live engine computes it. */
  snapshot: LiveSnapshot;
  /** Feed (engine) time of the snapshot, UTC ms. */
  now: number;
  /** Feed ms per wall ms (1 = real time; the simulator may run faster), so clients can run timers. */
  speed: number;
  /** Answer targets per channel, for timers and gauges. */
  targets: Record<'999' | '101', { withinMs: number; ratio: number }>;
  ringing: Bounded<RingingCall>;
  /** Grade 1 and 2 incidents not yet attended. */
  unattended: Bounded<OutstandingIncident>;
  updatesOwed: Bounded<UpdateOwed>;
}

export interface LiveFeedListener {
  /** A fresh board for a force (as often as the source publishes; the channel throttles). */
  board(board: LiveBoard): void;
  /** A breach or clear, the moment the engine emits it. */
  alert(alert: LiveAlert): void;
}

/**
 * Where an api node takes its live view from. Embedded: the in-process live engines
 * (embedded-feed.ts). Distributed: the live topic on Kafka, which every api node reads,
 * so any number of nodes show the same view. The socket.io channel sees only this.
 */
export interface LiveFeed {
  /** Forces the feed has live state for. */
  forces(): readonly string[];
  /** The latest board of a force, or undefined before its first event. */
  board(force: string): LiveBoard | undefined;
  /** Listen; returns the unsubscribe function. */
  subscribe(listener: LiveFeedListener): () => void;
}

/** At most this many rows of each list travel on the wire. */
export const MAX_LIST_ITEMS = 100;

export function bounded<T>(items: T[], max = MAX_LIST_ITEMS): Bounded<T> {
  return { items: items.length > max ? items.slice(0, max) : items, total: items.length };
}
