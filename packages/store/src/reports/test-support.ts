/**
 * Test support for the report queries: contract events for a force of the test's own,
 * stored in a given arrival order, and the evaluator's figures over the same events.
 */
import { type CallmonEvent, type EventType, parseEvent } from '@callmon/events';
import type { EventRecord } from '../records.ts';
import type { Store } from '../store.ts';
import { toWire } from '../testing.ts';

/** One event as a control room sends it: a JSON line through the contract's parser. */
export function contractEvent(
  force: string,
  id: string,
  type: EventType,
  at: number,
  fields: Record<string, unknown>,
): CallmonEvent {
  const line = JSON.stringify({ v: 1, id, type, force, ...fields, at: new Date(at).toISOString() });
  const parsed = parseEvent(line);
  if (!parsed.ok) throw new Error(`fixture breaks the contract (${parsed.detail}): ${line}`);
  return parsed.event;
}

let batches = 0;

/**
 * Store `events` as arriving in array order: arrival times `arrivedFrom`, `arrivedFrom + 1`, …
 * and consecutive source offsets, so the store's first copy of each id is the first in the
 * array, as the evaluator's de-duplication takes it.
 */
export async function storeInArrivalOrder(
  store: Store,
  events: readonly CallmonEvent[],
  arrivedFrom = Date.parse('2030-01-01T00:00:00Z'),
): Promise<void> {
  if (events.length === 0) return;
  const batch = ++batches;
  const records: EventRecord[] = events.map((event, index) => ({
    event,
    raw: JSON.stringify(toWire(event)),
    arrivedAt: arrivedFrom + index,
    position: { kind: 'file', name: `reports-test-${batch}`, partition: 0, offset: index + 1 },
  }));
  await store.insertEvents(records, { dedupToken: `reports-test:${process.pid}:${batch}` });
}
