import { type Clock, LiveEngine, LONGEST_WINDOW_MS, type Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import type { EventRange, Store } from '@callmon/store';
import type { Logger } from 'pino';
import { type LiveBus, LiveState } from './live-state.ts';

/** The events of a decided chunk whose ids a restore leaves out until the chunk settles. */
export type UnappliedIds = Pick<CallmonEvent, 'force' | 'id'>[];

/** How late an event may arrive and still be applied live (the engine's own default). */
export const LIVE_LATENESS_MS = 3_600_000;

/**
 * The live engines of the forces this consumer owns. Kafka partitions by force, so one
 * consumer owns a force's live state at a time (architecture.md); but a consumer learns
 * which forces a partition holds only from its messages. So a force's engine is
 * restored from the store — its events of the last 7 days plus the lateness allowance —
 * the first time its events reach this consumer, before they apply. Alerts raised while
 * restoring are not published: they were the previous owner's to raise. A rebalance
 * drops the forces of partitions this member no longer owns, so a force that comes back
 * is restored again, with whatever another member stored in between.
 */
export class KafkaLiveState {
  readonly live: LiveState;
  /** Forces restored, and the stored events they were restored from. */
  restoredForces = 0;
  restoredEvents = 0;
  private readonly partitionOfForce = new Map<string, number>();
  private restoring = false;
  /**
   * The ids of chunks decided and not yet applied, by force, for forces with no engine here
   * when their chunk was decided. A restore leaves them out even if their chunk is stored
   * by the time it reads (a later chunk may be written while an earlier one restores): they
   * apply in their chunk's turn, so the breaches they bring are published.
   */
  private readonly unapplied = new Map<string, Set<string>>();

  constructor(
    private readonly options: {
      store: Store;
      policy: Policy;
      bus: LiveBus;
      clock: Clock;
      log: Logger;
    },
  ) {
    this.live = new LiveState(options.policy, options.bus);
  }

  /**
   * A chunk is decided: its ids of forces not live here are left out of any restore until
   * {@link settled} is called with what this returns, once the chunk is applied or failed.
   */
  decided(events: readonly CallmonEvent[]): UnappliedIds {
    const noted: UnappliedIds = [];
    for (const event of events) {
      if (this.live.engines.has(event.force)) continue;
      let ids = this.unapplied.get(event.force);
      if (ids === undefined) {
        ids = new Set();
        this.unapplied.set(event.force, ids);
      }
      ids.add(event.id);
      noted.push(event);
    }
    return noted;
  }

  /** The chunk whose ids {@link decided} noted is applied, or failed. */
  settled(noted: UnappliedIds): void {
    for (const { force, id } of noted) {
      const ids = this.unapplied.get(force);
      ids?.delete(id);
      if (ids?.size === 0) this.unapplied.delete(force);
    }
  }

  /**
   * Evaluate: the accepted events of a decided chunk of `partition`, at once for the forces
   * live here. A force new to this consumer is first restored from the store, once
   * `durable` has resolved: the chunk and every chunk before it are stored by then, so the
   * restore misses none of them. `retry` waits before a failed restore is tried again.
   * `chunkAt` (the chunk's topic, first offset and arrival): the restore leaves out in SQL
   * what this consumer stored from there on in the partition (this chunk and those after
   * it, each applied in its turn) instead of reading it back to drop it here. Copies an
   * earlier run stored at those offsets arrived before, and are read: a chunk that only
   * re-reads them (a new group, offsets reset) does not apply them.
   */
  async apply(
    partition: number,
    events: readonly CallmonEvent[],
    retry: (ms: number) => Promise<void>,
    durable: Promise<unknown> = Promise.resolve(),
    chunkAt?: { topic: string; offset: number; arrivedAt: number },
  ): Promise<void> {
    const forces = new Set<string>();
    for (const event of events) forces.add(event.force);
    for (const force of forces) {
      this.partitionOfForce.set(force, partition);
      if (this.live.engines.has(force)) continue;
      await durable;
      // This chunk is durable now, so the store holds its events too: they are left out
      // of the restore and applied below, so that the breaches they bring are published
      // (a restore stays silent: its breaches were the previous owner's). `decided` noted
      // them already unless the force had an engine then, which a rebalance dropped since.
      const fresh = new Set(
        events.filter((event) => event.force === force).map((event) => event.id),
      );
      for (let attempt = 0; ; attempt++) {
        try {
          await this.restore(
            force,
            fresh,
            chunkAt && {
              kind: 'kafka',
              name: chunkAt.topic,
              partition,
              fromOffset: chunkAt.offset,
              arrivedFrom: chunkAt.arrivedAt,
            },
          );
          break;
        } catch (error) {
          // The embedded engine is gone for this process: retrying cannot help.
          if ((error as Error).name === 'StoreFailedError') throw error;
          const delayMs = Math.min(250 * 2 ** attempt, 30_000);
          this.options.log.warn(
            { err: error, force, delayMs },
            'restoring live state failed; retrying',
          );
          await retry(delayMs);
        }
      }
    }
    this.live.apply(events);
  }

  /** This member's partitions after a rebalance: forget the forces of the others. */
  assigned(partitions: readonly number[]): void {
    const owned = new Set(partitions);
    for (const [force, partition] of this.partitionOfForce) {
      if (owned.has(partition)) continue;
      this.partitionOfForce.delete(force);
      this.live.engines.delete(force);
    }
  }

  /**
   * Events dated before this instant are refused by every engine here, now and later
   * (engine clocks only move on, and an engine restored later starts at the clock's
   * time): the chunks' events need not be built for them.
   */
  liveFrom(): number {
    let from = this.options.clock.now() - LONGEST_WINDOW_MS - LIVE_LATENESS_MS;
    for (const engine of this.live.engines.values()) from = Math.min(from, engine.horizon);
    return from;
  }

  /** Move every engine to the clock's time, firing the breaches due. */
  advance(): void {
    this.live.advanceTo(this.options.clock.now());
  }

  private async restore(
    force: string,
    fresh: ReadonlySet<string>,
    leaveOut: EventRange['leaveOut'],
  ): Promise<void> {
    const { store, policy, bus, clock, log } = this.options;
    const engine = new LiveEngine({
      force,
      policy,
      startAt: clock.now(),
      latenessMs: LIVE_LATENESS_MS,
      firstCopiesOnly: true,
      onAlert: (alert) => {
        if (!this.restoring) bus.emit('alert', alert);
      },
    });
    // Left out after the read: whatever was decided before it, and stored by then, is noted.
    const range: EventRange = { force, from: engine.horizon };
    if (leaveOut !== undefined) range.leaveOut = leaveOut;
    const stored = (await store.readEvents(range)).filter(
      (event) => !fresh.has(event.id) && this.unapplied.get(force)?.has(event.id) !== true,
    );
    this.restoring = true;
    try {
      for (const event of stored) engine.apply(event);
    } finally {
      this.restoring = false;
    }
    this.live.engines.set(force, engine);
    this.restoredForces++;
    this.restoredEvents += stored.length;
    log.info({ force, events: stored.length, from: engine.horizon }, 'live state restored');
  }
}
