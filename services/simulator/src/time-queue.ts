/**
 * A priority queue of items by time, first in first out among equal times (so the
 * simulation is deterministic). A binary heap over parallel arrays: comparing two plain
 * numbers in place, rather than calling a comparator on two objects, roughly halves the
 * cost, and every simulated event passes through here. Used twice: for the call-handling
 * simulation's pending happenings and for the outbox, which holds events until the
 * simulation clock has passed their delivery time.
 */
export class TimeQueue<T> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** The earliest time in the queue; Infinity when empty. */
  peekTime(): number {
    return this.items.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  push(time: number, item: T): void {
    const { times, seqs, items } = this;
    const seq = this.seq++;
    let i = items.length;
    times.push(time);
    seqs.push(seq);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
  }

  /** Removes and returns the earliest item; undefined when empty. */
  pop(): T | undefined {
    const { times, seqs, items } = this;
    if (items.length === 0) return undefined;
    const top = items[0];
    const time = times.pop()!;
    const seq = seqs.pop()!;
    const item = items.pop()!;
    const n = items.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ct = times[child]!;
      let cs = seqs[child]!;
      const right = child + 1;
      if (right < n) {
        const rt = times[right]!;
        const rs = seqs[right]!;
        if (rt < ct || (rt === ct && rs < cs)) {
          child = right;
          ct = rt;
          cs = rs;
        }
      }
      if (time < ct || (time === ct && seq < cs)) break;
      times[i] = ct;
      seqs[i] = cs;
      items[i] = items[child]!;
      i = child;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
    return top;
  }
}
