import { type CallmonEvent, eventFingerprint } from '@callmon/events';

export type Admission = 'accepted' | 'duplicate' | 'conflict';

/**
 * cyrb53: a fast 53-bit string hash. The deduper keeps a hash of each event's
 * fingerprint rather than the string, so that a week of events fits in little memory;
 * two different contents under one (force, id) colliding is a 1-in-2^53 event.
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * events.md idempotency: the first copy of a (force, id) is accepted; a later copy with
 * the same content is a duplicate and changes nothing; one with different content is a
 * conflict, kept out and counted.
 */
export class EventDeduper {
  private readonly byForce = new Map<string, Map<string, number>>();

  admit(event: CallmonEvent): Admission {
    let seen = this.byForce.get(event.force);
    if (seen === undefined) {
      seen = new Map();
      this.byForce.set(event.force, seen);
    }
    const content = hash53(eventFingerprint(event));
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
