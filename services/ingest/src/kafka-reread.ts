import { parseEvent } from '@callmon/events';
import type { PartitionChunk } from '@callmon/queue';
import type { Store } from '@callmon/store';

/**
 * The store as a chunk read again must see it. A member that died after writing a chunk
 * and before committing it left the chunk's events in the store; read again, they would
 * look like duplicates of themselves, and the chunk would be written differently from
 * the first time (duplicate rows where accepted events were), which the insert
 * deduplication cannot recognise. So for such a chunk an id is not "already stored" when
 * its first stored copy is this very message — same topic, partition and offset — and
 * the pipeline makes the same decisions, hence the same rows under the same token, as the
 * first time; the store drops what had arrived. True duplicates, of events stored from
 * other positions, are still found. Only a chunk marked `reread` pays for this: each
 * message parsed once more, to know its id.
 */
export function rereadStore(store: Store, chunk: PartitionChunk): Store {
  // The offset of each id's first message in the chunk.
  const own = new Map<string, number>();
  for (const message of chunk.messages) {
    const parsed = parseEvent(message.value ?? new Uint8Array(0));
    if (!parsed.ok) continue;
    const key = `${parsed.event.force}\u0000${parsed.event.id}`;
    if (!own.has(key)) own.set(key, Number(message.offset));
  }
  const knownCopies = async (force: string, ids: readonly string[]) => {
    const known = await store.knownCopies(force, ids);
    for (const [id, { position }] of [...known]) {
      if (
        position.kind === 'kafka' &&
        position.name === chunk.topic &&
        position.partition === chunk.partition &&
        position.offset === own.get(`${force}\u0000${id}`)
      ) {
        known.delete(id);
      }
    }
    return known;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'knownCopies') return knownCopies;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
