/**
 * The first copy of each event id decided by the batches still in flight, by force: what a
 * later line with the same id is compared with (duplicate or conflict). Every accepted line
 * passes through here once, and a file backfill has a million of them, so the table is
 * open addressing over typed arrays keyed by a 32-bit hash of the id, not a `Map` of
 * strings: a `Map` took ≈ 1.1 µs a line to add, find and later forget an id, half that
 * (bench/first-copies.bench.ts). A hash match is confirmed against the id itself, so two
 * ids never stand for each other.
 *
 * Batches are numbered in the order they are decided, and forgotten in that order once
 * the store answers for them ({@link retireUpTo}): their entries are then dead, skipped
 * by look-ups and reused or dropped when a table is rebuilt.
 */
export class FirstCopies<T> {
  readonly #forces = new Map<string, ForceCopies<T>>();
  /** Each batch still remembered: the ids it added and their first copies, by entry index. */
  readonly #batches = new Map<number, Batch<T>>();
  #current: Batch<T> | undefined;
  #retiredUpTo = 0;

  /** The table of one force (look-ups and additions go through it). */
  force(force: string): ForceCopies<T> {
    let copies = this.#forces.get(force);
    if (copies === undefined) {
      copies = new ForceCopies(this);
      this.#forces.set(force, copies);
    }
    return copies;
  }

  /** Start deciding batch `number` (once each): what is added from now on belongs to it. */
  begin(number: number): void {
    if (number <= this.#retiredUpTo) {
      throw new Error(`batch ${number} is already retired (up to ${this.#retiredUpTo})`);
    }
    const batch: Batch<T> = { number, ids: [], copies: [] };
    this.#batches.set(number, batch);
    this.#current = batch;
  }

  /** Forget every batch up to and including `number`. */
  retireUpTo(number: number): void {
    if (number <= this.#retiredUpTo) return;
    this.#retiredUpTo = number;
    for (const batch of this.#batches.keys()) {
      if (batch <= number) this.#batches.delete(batch);
    }
  }

  /** Ids remembered, over all forces (for tests and metrics). */
  get size(): number {
    let size = 0;
    for (const batch of this.#batches.values()) size += batch.ids.length;
    return size;
  }

  /** @internal */
  batch(number: number): Batch<T> | undefined {
    return number > this.#retiredUpTo ? this.#batches.get(number) : undefined;
  }

  /** @internal The batch being decided (the last begun). */
  current(): Batch<T> {
    if (this.#current === undefined) throw new Error('begin() a batch before adding to it');
    return this.#current;
  }

  /** @internal */
  get retiredUpTo(): number {
    return this.#retiredUpTo;
  }
}

interface Batch<T> {
  number: number;
  ids: string[];
  copies: T[];
}

const MIN_SLOTS = 1 << 10;

/** One force's ids: see {@link FirstCopies}. */
export class ForceCopies<T> {
  readonly #owner: FirstCopies<T>;
  #mask = MIN_SLOTS - 1;
  /** Per slot: the id's hash, and where its copy is (batch 0: an empty slot). */
  #hash = new Int32Array(MIN_SLOTS);
  #batch = new Int32Array(MIN_SLOTS);
  #entry = new Int32Array(MIN_SLOTS);
  /** Slots not empty (live or dead): past half the table, it is rebuilt. */
  #used = 0;
  /** Left by the last {@link get} that found nothing, for {@link add}. */
  #missed = { id: '', hash: 0, slot: -1 };

  constructor(owner: FirstCopies<T>) {
    this.#owner = owner;
  }

  /** The first copy of `id`; when there is none, {@link add} may record one next. */
  get(id: string): T | undefined {
    const hash = hashOf(id);
    const mask = this.#mask;
    const retiredUpTo = this.#owner.retiredUpTo;
    let free = -1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const batch = this.#batch[slot]!;
      if (batch === 0) {
        if (free < 0) free = slot;
        break;
      }
      if (batch <= retiredUpTo) {
        if (free < 0) free = slot;
        continue;
      }
      if (this.#hash[slot] === hash) {
        const owner = this.#owner.batch(batch)!;
        const entry = this.#entry[slot]!;
        if (owner.ids[entry] === id) return owner.copies[entry];
      }
    }
    const missed = this.#missed;
    missed.id = id;
    missed.hash = hash;
    missed.slot = free;
    return undefined;
  }

  /** Record `copy` as the first of the id the last {@link get} did not find. */
  add(copy: T): void {
    const missed = this.#missed;
    if (missed.slot < 0) throw new Error('add() follows a get() that found nothing');
    const batch = this.#owner.current();
    let slot = missed.slot;
    missed.slot = -1;
    // A dead entry's slot is reused as it is; an empty one fills the table further.
    if (this.#batch[slot] === 0) {
      if ((this.#used + 1) * 2 > this.#mask + 1) {
        this.#rebuild();
        slot = this.#freeSlot(missed.hash);
      }
      this.#used++;
    }
    this.#hash[slot] = missed.hash;
    this.#batch[slot] = batch.number;
    this.#entry[slot] = batch.ids.length;
    batch.ids.push(missed.id);
    batch.copies.push(copy);
  }

  /** Drop dead entries; grow so that the live ones fill at most a quarter. */
  #rebuild(): void {
    const retiredUpTo = this.#owner.retiredUpTo;
    const { length } = this.#batch;
    let live = 0;
    for (let slot = 0; slot < length; slot++) {
      if (this.#batch[slot]! > retiredUpTo) live++;
    }
    let size = MIN_SLOTS;
    while (size < (live + 1) * 4) size *= 2;
    const hashes = this.#hash;
    const batches = this.#batch;
    const entries = this.#entry;
    this.#mask = size - 1;
    this.#hash = new Int32Array(size);
    this.#batch = new Int32Array(size);
    this.#entry = new Int32Array(size);
    this.#used = live;
    for (let slot = 0; slot < length; slot++) {
      const batch = batches[slot]!;
      if (batch <= retiredUpTo) continue;
      const to = this.#freeSlot(hashes[slot]!);
      this.#hash[to] = hashes[slot]!;
      this.#batch[to] = batch;
      this.#entry[to] = entries[slot]!;
    }
  }

  /** The first empty slot for a hash (in a table just rebuilt: no dead entries). */
  #freeSlot(hash: number): number {
    const mask = this.#mask;
    let slot = hash & mask;
    while (this.#batch[slot] !== 0) slot = (slot + 1) & mask;
    return slot;
  }
}

/** FNV-1a over the id's code units, mixed: where the id's slot search starts. */
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return mix(hash);
}

/** MurmurHash3's finalizer: FNV's low bits alone cluster ids that differ in one digit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
