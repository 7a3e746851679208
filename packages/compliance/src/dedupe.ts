import { type CallmonEvent, eventFingerprint } from '@callmon/events';

export type Admission = 'accepted' | 'duplicate' | 'conflict';

/**
 * events.md idempotency for one force: the first copy of an id is accepted; a later copy
 * with the same content is a duplicate and changes nothing; one with different content
 * is a conflict, kept out and counted. The first copy itself is kept, so admitting an
 * event costs one map lookup; content is compared (by fingerprint) only when an id
 * comes again, which is rare.
 *
 * Given first copies only (`firstCopiesOnly`: events de-duplicated upstream against the
 * store, as the ingest pipeline hands them on), a repeat can only be the same content
 * again, so only the ids are kept: a stream's events are not held for their ids' lifetime.
 */
export class ForceDeduper {
  /** Each id's first copy, or `true` where content is not compared. */
  private readonly firstCopies = new Map<string, CallmonEvent | true>();
  private readonly keepsContent: boolean;

  constructor(options: { firstCopiesOnly?: boolean } = {}) {
    this.keepsContent = options.firstCopiesOnly !== true;
  }

  admit(event: CallmonEvent): Admission {
    const first = this.firstCopies.get(event.id);
    if (first === undefined) {
      this.firstCopies.set(event.id, this.keepsContent ? event : true);
      return 'accepted';
    }
    if (first === true) return 'duplicate';
    return eventFingerprint(first) === eventFingerprint(event) ? 'duplicate' : 'conflict';
  }

  /** Forget an event id (the live engine evicts ids older than its horizon). */
  forget(id: string): void {
    this.firstCopies.delete(id);
  }

  get size(): number {
    return this.firstCopies.size;
  }
}

/** {@link ForceDeduper} across forces: ids are unique per force. */
export class EventDeduper {
  private readonly byForce = new Map<string, ForceDeduper>();

  admit(event: CallmonEvent): Admission {
    let deduper = this.byForce.get(event.force);
    if (deduper === undefined) {
      deduper = new ForceDeduper();
      this.byForce.set(event.force, deduper);
    }
    return deduper.admit(event);
  }

  get size(): number {
    let size = 0;
    for (const deduper of this.byForce.values()) size += deduper.size;
    return size;
  }
}
