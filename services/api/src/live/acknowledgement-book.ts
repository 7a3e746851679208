import { type AcknowledgementRecord, acknowledgementPrecedes } from '@callmon/store';
import type { Acknowledgement } from './protocol.ts';

/**
 * One force's acknowledgements as an api node holds them: the one that stands per alert,
 * under the store's order (`acknowledgementPrecedes`), so that whatever order presses
 * reach a node in (its own, the store's on load, other nodes' by polling), every node
 * ends up holding the same one. Bounded: the newest `capacity` alerts.
 */
export class AcknowledgementBook {
  readonly #byAlert = new Map<string, AcknowledgementRecord>();

  constructor(readonly capacity: number) {}

  /** The acknowledgement that stands for the alert, as the channel sends it. */
  get(alert: string): Acknowledgement | undefined {
    const record = this.#byAlert.get(alert);
    return record === undefined ? undefined : wire(record);
  }

  /**
   * Take a press into account. True when it now stands (a first acknowledgement of its
   * alert, or one that precedes the one held): the room must then be told.
   */
  offer(record: AcknowledgementRecord): boolean {
    const held = this.#byAlert.get(record.alert);
    if (held !== undefined && !acknowledgementPrecedes(record, held)) return false;
    this.#byAlert.set(record.alert, record);
    if (this.#byAlert.size > this.capacity) {
      // The oldest by time, not by arrival: a load may bring older ones after newer.
      let oldest = record;
      for (const candidate of this.#byAlert.values()) {
        if (candidate.at < oldest.at) oldest = candidate;
      }
      this.#byAlert.delete(oldest.alert);
      return oldest !== record;
    }
    return true;
  }

  /** Oldest first. */
  toArray(): Acknowledgement[] {
    return [...this.#byAlert.values()]
      .sort((a, b) => a.at - b.at || (a.alert < b.alert ? -1 : a.alert > b.alert ? 1 : 0))
      .map(wire);
  }
}

/** The socket message: the protocol's fields only (the node stays on the server). */
export function wire(record: AcknowledgementRecord): Acknowledgement {
  return {
    force: record.force,
    alert: record.alert,
    by: record.subject,
    role: record.role,
    at: record.at,
  };
}
