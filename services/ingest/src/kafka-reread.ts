import { type CallmonEvent, parseEvent } from '@callmon/events';
import type { PartitionChunk } from '@callmon/queue';
import type { Store, StoredEvent } from '@callmon/store';

/**
 * The store as a chunk read again must see it. A member that died after writing a chunk
 * and before committing it left the chunk's events in the store; read again, they would
 * look like duplicates of themselves, and the chunk would be written differently from
 * the first time (duplicate rows where accepted events were), which the insert
 * deduplication cannot recognise. So for such a chunk an id is not "already stored" when
 * its first stored copy is this very message — same topic, partition and offset — and
 * the pipeline makes the same decisions, hence the same rows under the same token, as the
 * first time; the store drops what had arrived. True duplicates, of events stored from
 * other positions, are still found. Only a chunk marked `reread` pays for this: one
 * timeline look-up per call or incident whose ids are stored.
 */
export function rereadStore(store: Store, chunk: PartitionChunk): Store {
  const own = new Map<string, { offset: number; event: CallmonEvent }>();
  for (const message of chunk.messages) {
    const parsed = parseEvent(message.value ?? new Uint8Array(0));
    if (!parsed.ok) continue;
    const key = `${parsed.event.force}\u0000${parsed.event.id}`;
    if (!own.has(key)) own.set(key, { offset: Number(message.offset), event: parsed.event });
  }
  const timelines = new Map<string, Promise<StoredEvent[]>>();
  const timelineOf = (event: CallmonEvent): Promise<StoredEvent[]> => {
    const subject =
      'incident' in event
        ? `i\u0000${event.incident}`
        : `c\u0000${(event as { call: string }).call}`;
    const key = `${event.force}\u0000${subject}`;
    let timeline = timelines.get(key);
    if (timeline === undefined) {
      timeline =
        'incident' in event
          ? store.eventsOfIncident(event.force, event.incident)
          : store.eventsOfCall(event.force, (event as { call: string }).call);
      timelines.set(key, timeline);
    }
    return timeline;
  };
  const knownFingerprints = async (force: string, ids: readonly string[]) => {
    const known = await store.knownFingerprints(force, ids);
    for (const id of [...known.keys()]) {
      const mine = own.get(`${force}\u0000${id}`);
      if (mine === undefined) continue;
      const first = (await timelineOf(mine.event)).find(
        (copy) => copy.counted && copy.event.id === id,
      );
      const at = first?.position;
      if (
        at?.kind === 'kafka' &&
        at.name === chunk.topic &&
        at.partition === chunk.partition &&
        at.offset === mine.offset
      ) {
        known.delete(id);
      }
    }
    return known;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'knownFingerprints') return knownFingerprints;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
