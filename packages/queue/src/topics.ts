/** The events topic (events.md): one message per event, key = force. */
export const EVENTS_TOPIC = 'callmon.events.v1';

/** Breaches, clears and window snapshots, read by every api node (architecture.md). */
export const LIVE_TOPIC = 'callmon.live.v1';

/** Partitions of a topic `callmon kafka init` creates when none is asked for. */
export const DEFAULT_PARTITIONS = 12;
