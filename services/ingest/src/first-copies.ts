/**
 * The first copies recent batches decided: for each id a batch accepted or found stored,
 * that copy (the accepted input, or the stored copy's fingerprint), and the batch. The
 * pipeline keeps a batch's ids while a later batch's store look-up may not see its writes,
 * and forgets them, batch by batch in order, once none can (pipeline.ts).
 *
 * One open-addressing table over a typed array rather than a `Map` keyed by id: a
 * backfill decides every line, and a `Map` of ≈ 100 000–200 000 fresh id strings, with a
 * delete per id when its batch is forgotten, was the pipeline thread's largest cost
 * (BENCHMARKS.md). Here a probe reads one slot (hash and entry side by side) and compares
 * the id only when the 32-bit hashes match. Forgetting a batch is one number; the
 * forgotten entries are dropped when the table is next rebuilt.
 */
export class FirstCopies<Copy> {
  /** Per slot two numbers: the hash of its id, and 1 + its entry's index (0: empty). */
  #slots: Int32Array;
  #mask: number;
  /** Per entry, in the order added since the last rebuild. */
  #forces: string[] = [];
  #ids: string[] = [];
  #copies: Copy[] = [];
  #batches: number[] = [];
  /** Entries of batches up to this one are forgotten. */
  #forgottenUpTo = -Infinity;

  constructor(capacity = 1 << 16) {
    const slots = slotsFor(capacity);
    this.#slots = new Int32Array(slots * 2);
    this.#mask = slots - 1;
  }

  /** The first copy of `id` of `force`, unless forgotten; `hash` is {@link idHash} of `id`. */
  get(force: string, id: string, hash: number): Copy | undefined {
    const slots = this.#slots;
    const mask = this.#mask;
    const key = hash | 0;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * 2 + 1]! - 1;
      if (entry < 0) return undefined;
      if (
        slots[slot * 2] === key &&
        this.#ids[entry] === id &&
        this.#forces[entry] === force &&
        this.#batches[entry]! > this.#forgottenUpTo
      ) {
        return this.#copies[entry];
      }
    }
  }

  /** Record the first copy of an id that {@link get} did not find, decided by `batch`. */
  add(force: string, id: string, hash: number, copy: Copy, batch: number): void {
    if (this.#ids.length * 2 >= this.#mask + 1) this.#rebuild();
    this.#place(this.#ids.length, hash);
    this.#ids.push(id);
    this.#forces.push(force);
    this.#copies.push(copy);
    this.#batches.push(batch);
  }

  /** Forget the entries of every batch up to `batch` (batches are forgotten in order). */
  forget(batch: number): void {
    if (batch > this.#forgottenUpTo) this.#forgottenUpTo = batch;
  }

  /** Entries not forgotten. */
  get size(): number {
    let live = 0;
    for (const batch of this.#batches) if (batch > this.#forgottenUpTo) live++;
    return live;
  }

  #place(entry: number, hash: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = hash & mask;
    while (slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
    slots[slot * 2] = hash | 0;
    slots[slot * 2 + 1] = entry + 1;
  }

  /**
   * A fresh table of the entries not forgotten, at most an eighth full, so that rebuilds
   * stay rare however many batches are in flight. The hashes are taken from the old
   * slots, not worked out again.
   */
  #rebuild(): void {
    const oldSlots = this.#slots;
    const forces = this.#forces;
    const ids = this.#ids;
    const copies = this.#copies;
    const batches = this.#batches;
    let live = 0;
    for (const batch of batches) if (batch > this.#forgottenUpTo) live++;
    const slots = slotsFor(Math.max(live * 4, oldSlots.length / 8));
    this.#slots = new Int32Array(slots * 2);
    this.#mask = slots - 1;
    this.#forces = [];
    this.#ids = [];
    this.#copies = [];
    this.#batches = [];
    for (let slot = 0; slot < oldSlots.length; slot += 2) {
      const entry = oldSlots[slot + 1]! - 1;
      if (entry < 0 || batches[entry]! <= this.#forgottenUpTo) continue;
      this.#place(this.#ids.length, oldSlots[slot]! >>> 0);
      this.#ids.push(ids[entry]!);
      this.#forces.push(forces[entry]!);
      this.#copies.push(copies[entry]!);
      this.#batches.push(batches[entry]!);
    }
  }
}

/** Slots for `capacity` entries at most half full: a power of two, 2^16 at least. */
function slotsFor(capacity: number): number {
  let slots = 1 << 16;
  while (slots < capacity * 2) slots *= 2;
  return slots;
}

/**
 * A 32-bit hash of an id's code units (FNV-1a, then a final mix so that the low bits,
 * which pick the slot, depend on every character).
 */
export function idHash(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}
