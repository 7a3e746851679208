import { EventEmitter } from 'node:events';
import { type LiveAlert, LiveEngine, type LiveSnapshot, type Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';

export interface LiveBusEvents {
  alert: [LiveAlert];
  snapshot: [LiveSnapshot];
}

/** The in-process fan-out of the embedded mode: breaches, clears and snapshots. */
export class LiveBus extends EventEmitter<LiveBusEvents> {}

/**
 * One live engine per force, created on its first event, alerts onto the bus. Fed by the
 * ingest pipeline, which hands on first copies only (`firstCopiesOnly`).
 */
export class LiveState {
  readonly engines = new Map<string, LiveEngine>();

  constructor(
    private readonly policy: Policy,
    private readonly bus: LiveBus,
    private readonly startAt?: number,
  ) {}

  /** Evaluate: accepted events of a batch (durable, or for Kafka decided), in order. */
  apply(events: readonly CallmonEvent[]): void {
    for (const event of events) this.engineOf(event.force).apply(event);
  }

  advanceTo(t: number): void {
    for (const engine of this.engines.values()) engine.advanceTo(t);
  }

  /** Publish: a §8 snapshot of every force onto the bus. */
  publishSnapshots(): LiveSnapshot[] {
    const snapshots = [...this.engines.values()].map((engine) => engine.snapshot());
    for (const snapshot of snapshots) this.bus.emit('snapshot', snapshot);
    return snapshots;
  }

  private engineOf(force: string): LiveEngine {
    let engine = this.engines.get(force);
    if (engine === undefined) {
      const options = {
        force,
        policy: this.policy,
        onAlert: (alert: LiveAlert) => this.bus.emit('alert', alert),
        // Fed by the pipeline (and restores from the store): first copies only.
        firstCopiesOnly: true,
      };
      engine = new LiveEngine(
        this.startAt === undefined ? options : { ...options, startAt: this.startAt },
      );
      this.engines.set(force, engine);
    }
    return engine;
  }
}
