import { formatUtc, parseEventTime } from '@callmon/events';
import { badParameter } from './errors.ts';

/**
 * Instants a query may name: inside what the store's DateTime64 columns hold, with room
 * to spare. Beyond it there is no data, and the engine would refuse the value (a 500).
 */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(2200, 0, 1);

/** A query instant (already matched against the RFC 3339 pattern) as UTC ms, or a 400. */
export function instantParameter(text: string, parameter: string): number {
  const parsed = parseEventTime(text);
  if (!parsed.ok) throw badParameter(parameter, parsed.detail);
  if (parsed.ms < EARLIEST || parsed.ms >= LATEST) {
    throw badParameter(
      parameter,
      `must be from ${formatUtc(EARLIEST)} to before ${formatUtc(LATEST)}`,
    );
  }
  return parsed.ms;
}

/** Optional `from`/`to` as a half-open range; `from` must come before `to`. */
export function rangeParameters(query: { from?: string; to?: string }): {
  from?: number;
  to?: number;
} {
  const from = query.from === undefined ? undefined : instantParameter(query.from, 'from');
  const to = query.to === undefined ? undefined : instantParameter(query.to, 'to');
  if (from !== undefined && to !== undefined && from >= to) {
    throw badParameter('to', 'must be later than from');
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}
