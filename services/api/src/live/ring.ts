/** A list that keeps only its newest `capacity` entries: bounded memory over a long shift. */
export class Ring<T> {
  private readonly entries: T[] = [];

  constructor(readonly capacity: number) {}

  push(entry: T): void {
    this.entries.push(entry);
    // Trim in chunks so a full ring does not shift the array on every push.
    if (this.entries.length >= this.capacity + Math.max(1, this.capacity >> 3)) {
      this.entries.splice(0, this.entries.length - this.capacity);
    }
  }

  /** Oldest first, at most `capacity`. */
  toArray(): T[] {
    const start = Math.max(0, this.entries.length - this.capacity);
    return this.entries.slice(start);
  }

  find(predicate: (entry: T) => boolean): T | undefined {
    const start = Math.max(0, this.entries.length - this.capacity);
    for (let i = this.entries.length - 1; i >= start; i--) {
      if (predicate(this.entries[i] as T)) return this.entries[i];
    }
    return undefined;
  }

  clear(): void {
    this.entries.length = 0;
  }

  get size(): number {
    return Math.min(this.entries.length, this.capacity);
  }
}
