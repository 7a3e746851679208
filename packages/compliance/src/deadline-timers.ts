/**
 * A min-heap of (instant, item) wake-ups. Entries are never removed early: the engine
 * checks on pop whether the wake-up is still the item's current one, which keeps
 * scheduling O(log n) with no search.
 */
export class DeadlineTimers<Item> {
  private readonly instants: number[] = [];
  private readonly items: Item[] = [];

  get size(): number {
    return this.instants.length;
  }

  schedule(instant: number, item: Item): void {
    const instants = this.instants;
    const items = this.items;
    let index = instants.length;
    instants.push(instant);
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (instants[parent]! <= instant) break;
      instants[index] = instants[parent]!;
      items[index] = items[parent]!;
      index = parent;
    }
    instants[index] = instant;
    items[index] = item;
  }

  /** The earliest instant scheduled, or +∞. */
  peek(): number {
    return this.instants.length > 0 ? this.instants[0]! : Number.POSITIVE_INFINITY;
  }

  /** Remove and return the earliest entry. Call only when `size > 0`. */
  pop(): { instant: number; item: Item } {
    const instants = this.instants;
    const items = this.items;
    const top = { instant: instants[0]!, item: items[0]! };
    const lastInstant = instants.pop()!;
    const lastItem = items.pop()!;
    const length = instants.length;
    if (length > 0) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= length) break;
        const right = left + 1;
        const child = right < length && instants[right]! < instants[left]! ? right : left;
        if (instants[child]! >= lastInstant) break;
        instants[index] = instants[child]!;
        items[index] = items[child]!;
        index = child;
      }
      instants[index] = lastInstant;
      items[index] = lastItem;
    }
    return top;
  }
}
