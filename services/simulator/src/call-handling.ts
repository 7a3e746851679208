import { CALLS, type ChannelModel } from './model.ts';
import type { Rng } from './prng.ts';
import type { RotaHour } from './staffing.ts';
import { TimeQueue } from './time-queue.ts';

/**
 * How handlers are pooled. `separate`: 999 handlers take only 999, 101 handlers only
 * 101. `overflow` (default): as separate, but a free 101 handler takes a waiting 999
 * call first, as control rooms do. `shared`: one pool answering both, 999 first.
 */
export type Pooling = 'separate' | 'overflow' | 'shared';
export const POOLINGS: readonly Pooling[] = ['separate', 'overflow', 'shared'];

const WAITING = 0;
const ASSIGNED = 1;
const ABANDONED = 2;

export class Call {
  state = WAITING;
  constructor(
    readonly id: string,
    readonly channel: '999' | '101',
    readonly presentedAt: number,
    /** When the caller hangs up if nobody has answered by then. */
    readonly giveUpAt: number,
    /** A repeat call about a burst's one event (see demand.ts). */
    readonly surge: boolean,
    /** Demand over plan when the call came in. */
    readonly load: number,
  ) {}
}

/** A FIFO of waiting calls; callers who gave up are skipped when reached. */
class CallQueue {
  private items: Call[] = [];
  private head = 0;

  push(call: Call): void {
    this.items.push(call);
  }

  shift(): Call | undefined {
    while (this.head < this.items.length) {
      const call = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (call.state === WAITING) return call;
    }
    return undefined;
  }
}

class Pool {
  /** Free handlers, longest-free first (how call distributors route). */
  idle: string[] = [];
  offDuty: string[];
  onDuty = 0;
  target = 0;

  constructor(
    names: string[],
    /** The queues this pool's handlers serve, in priority order. */
    readonly queues: CallQueue[],
  ) {
    this.offDuty = names.reverse();
  }
}

/** What the queue simulation tells the rest of the simulator. */
export interface CallSink {
  presented(call: Call): void;
  answered(call: Call, answeredAt: number, handler: string, talkMs: number, now: number): void;
  abandoned(call: Call, abandonedAt: number): void;
}

const HANDLER_FREE = 0;
const CALLER_GIVES_UP = 1;

class Happening {
  constructor(
    readonly time: number,
    readonly kind: number,
    readonly call: Call | null,
    readonly handler: string | null,
    readonly pool: Pool | null,
  ) {}
}

/**
 * The call-handling floor as a discrete-event simulation: calls arrive, wait in their
 * queue for a free handler (999 before 101 where a handler serves both), are picked up
 * after a few seconds of ringing, talked to and wrapped up; callers give up when their
 * patience runs out first. Handlers come on and go off duty by the hourly rota; one
 * going off duty finishes the call in hand first.
 */
export class CallHandling {
  private readonly happenings = new TimeQueue<Happening>();
  private waiting = 0;
  private readonly pools: Pool[];
  private readonly queues: Record<'999' | '101', CallQueue>;
  private readonly routes: Record<'999' | '101', Pool[]>;

  constructor(
    private readonly pooling: Pooling,
    rota: readonly RotaHour[],
    private readonly rng: Rng,
    private readonly sink: CallSink,
  ) {
    const queue999 = new CallQueue();
    const queue101 = new CallQueue();
    const max999 = Math.max(...rota.map((r) => r.handlers999));
    const max101 = Math.max(...rota.map((r) => r.handlers101));
    const names = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => `h${from + i}`);
    if (pooling === 'shared') {
      const all = new Pool(names(1, Math.max(...rota.map((r) => r.handlers999 + r.handlers101))), [
        queue999,
        queue101,
      ]);
      this.pools = [all];
      this.routes = { '999': [all], '101': [all] };
    } else {
      const pool999 = new Pool(names(1, max999), [queue999]);
      const pool101 = new Pool(
        names(max999 + 1, max101),
        pooling === 'overflow' ? [queue999, queue101] : [queue101],
      );
      this.pools = [pool999, pool101];
      this.routes = {
        '999': pooling === 'overflow' ? [pool999, pool101] : [pool999],
        '101': [pool101],
      };
    }
    this.queues = { '999': queue999, '101': queue101 };
  }

  /** When the next handler comes free or caller gives up; Infinity if nothing pending. */
  nextTime(): number {
    return this.happenings.peekTime();
  }

  /** Nobody waiting and nobody on a call. */
  isQuiet(): boolean {
    return this.waiting === 0 && this.happenings.size === 0;
  }

  /** Make the next pending happening happen. */
  step(): void {
    const h = this.happenings.pop()!;
    if (h.kind === HANDLER_FREE) {
      this.release(h.pool!, h.handler!, h.time);
    } else if (h.call!.state === WAITING) {
      h.call!.state = ABANDONED;
      this.waiting--;
      this.sink.abandoned(h.call!, h.time);
    }
  }

  present(call: Call): void {
    this.sink.presented(call);
    const t = call.presentedAt;
    for (const pool of this.routes[call.channel]) {
      const handler = pool.idle.shift();
      if (handler !== undefined) {
        this.assign(call, handler, pool, t);
        return;
      }
    }
    this.queues[call.channel].push(call);
    this.waiting++;
    this.schedule(call.giveUpAt, CALLER_GIVES_UP, call, null, null);
  }

  /** Apply the rota for the hour starting at `t`. */
  staff(t: number, rota: RotaHour): void {
    if (this.pooling === 'shared') {
      this.pools[0]!.target = rota.handlers999 + rota.handlers101;
    } else {
      this.pools[0]!.target = rota.handlers999;
      this.pools[1]!.target = rota.handlers101;
    }
    for (const pool of this.pools) {
      while (pool.onDuty < pool.target && pool.offDuty.length > 0) {
        pool.onDuty++;
        this.release(pool, pool.offDuty.pop()!, t);
      }
      while (pool.onDuty > pool.target && pool.idle.length > 0) {
        pool.onDuty--;
        pool.offDuty.push(pool.idle.pop()!);
      }
    }
  }

  /** Draw how long a caller will wait before hanging up, seconds. */
  patience(channel: '999' | '101'): number {
    const m = CALLS[channel];
    const { rng } = this;
    if (rng.chance(m.quickHangUpShare)) return rng.uniform(m.quickHangUpS[0], m.quickHangUpS[1]);
    return rng.logNormal(m.patienceS.median, m.patienceS.sigma);
  }

  private schedule(
    time: number,
    kind: number,
    call: Call | null,
    handler: string | null,
    pool: Pool | null,
  ): void {
    this.happenings.push(time, new Happening(time, kind, call, handler, pool));
  }

  /** A handler is free at `t`: off duty if the rota says so, else the next waiting call. */
  private release(pool: Pool, handler: string, t: number): void {
    if (pool.onDuty > pool.target) {
      pool.onDuty--;
      pool.offDuty.push(handler);
      return;
    }
    for (const queue of pool.queues) {
      const call = queue.shift();
      if (call !== undefined) {
        this.waiting--;
        this.assign(call, handler, pool, t);
        return;
      }
    }
    pool.idle.push(handler);
  }

  private assign(call: Call, handler: string, pool: Pool, t: number): void {
    call.state = ASSIGNED;
    const m: ChannelModel = CALLS[call.channel];
    const { rng } = this;
    const answeredAt =
      t + Math.round((m.pickupFloorS + rng.logNormal(m.pickupS.median, m.pickupS.sigma)) * 1000);
    if (call.giveUpAt < answeredAt) {
      // The caller hangs up while it rings.
      const at = Math.max(call.giveUpAt, t);
      this.sink.abandoned(call, at);
      this.schedule(at, HANDLER_FREE, null, handler, pool);
      return;
    }
    const talkMs = Math.round(rng.logNormal(m.talkS.median, m.talkS.sigma) * 1000);
    const wrapMs = Math.round(rng.logNormal(m.wrapS.median, m.wrapS.sigma) * 1000);
    this.sink.answered(call, answeredAt, handler, talkMs, t);
    this.schedule(answeredAt + talkMs + wrapMs, HANDLER_FREE, null, handler, pool);
  }
}
