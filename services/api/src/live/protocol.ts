import type { LiveAlert } from '@callmon/compliance';
import { z } from 'zod';
import type { LiveBoard } from './live-feed.ts';
import type { HistoryPoint } from './shift-history.ts';

/**
 * The socket.io live channel's messages (dashboards/live/README.md lists them for
 * client authors). Client → server payloads are checked with these schemas; every
 * refusal answers with an HTTP-like status and a reason code.
 */

const forceCode = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'not a force code');

/** Handshake `auth`: the token, and optionally the force to join at once (and on every reconnect). */
export const handshakeSchema = z.object({
  token: z.string().min(1).max(4096),
  force: forceCode.optional(),
});

/** `join`: show this force (leaving any other). */
export const joinSchema = z.strictObject({ force: forceCode });

/** `acknowledge`: a supervisor has seen this breach. */
export const acknowledgeSchema = z.strictObject({
  force: forceCode,
  alert: z.string().min(1).max(400),
});

/** A breach or clear as it appears in the feed, with an id stable across api nodes. */
export interface AlertEntry {
  id: string;
  alert: LiveAlert;
}

/**
 * Who acknowledged which breach, and when (wall clock, UTC ms): the acknowledgement that
 * stands, the first recorded in the store (packages/store acknowledgements.ts).
 */
export interface Acknowledgement {
  force: string;
  alert: string;
  by: string;
  role: string;
  at: number;
}

/** `snapshot`: everything a screen needs, on join and on every reconnect. */
export interface SnapshotMessage {
  force: string;
  /** null until the force's first event reaches the live engine. */
  board: LiveBoard | null;
  /** Recent breaches and clears, oldest first. */
  alerts: AlertEntry[];
  acknowledgements: Acknowledgement[];
  history: HistoryPoint[];
}

/** 503: the store did not record an acknowledgement (nothing was taken; try again). */
export type Refusal = { status: 400 | 401 | 403 | 404 | 503; reason: string; detail: string };
export type Reply<T> = ({ ok: true } & T) | ({ ok: false } & Refusal);

/** The id of a breach or clear: the same on every api node that sees it. */
export function alertId(alert: LiveAlert): string {
  return `${alert.kind}:${alert.rule}:${alert.item}:${alert.at}`;
}
