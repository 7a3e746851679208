import { type CallmonEvent, eventContentHash } from '@callmon/events';

export type Admission = 'accepted' | 'duplicate' | 'conflict';

/**
 * events.md idempotency: the first copy of a (force, id) is accepted; a later copy with
 * the same content is a duplicate and changes nothing; one with different content is a
 * conflict, kept out and counted. Content is compared by a 53-bit hash of the event's
 * fingerprint, so a week of ids fits in little memory; two different contents under one
 * (force, id) colliding is a 1-in-2^53 event.
 */
export class EventDeduper {
  private readonly byForce = new Map<string, Map<string, number>>();

  admit(event: CallmonEvent): Admission {
    let seen = this.byForce.get(event.force);
    if (seen === undefined) {
      seen = new Map();
      this.byForce.set(event.force, seen);
    }
    const content = eventContentHash(event);
    const first = seen.get(event.id);
    if (first === undefined) {
      seen.set(event.id, content);
      return 'accepted';
    }
    return first === content ? 'duplicate' : 'conflict';
  }

  /** Forget an event id (the live engine evicts ids older than its horizon). */
  forget(force: string, id: string): void {
    this.byForce.get(force)?.delete(id);
  }

  get size(): number {
    let size = 0;
    for (const seen of this.byForce.values()) size += seen.size;
    return size;
  }
}
