/**
 * Embedded mode: the ids of each force the store holds, as Bloom filters — those this
 * process has written, and, for a force that already had rows when the process first asked
 * about it, the hashes of its stored ids read once then (up to {@link SEED_LIMIT} rows).
 * chDB locks its data folder to one process, so nothing but this store's own inserts can
 * add an id after that: an id the filter has never seen is certainly not stored, and the
 * duplicate check need not ask the engine about it. On a file backfill that is nearly
 * every id of every batch, and the look-up queries cost the engine ≈ 6 CPU-seconds per
 * 1 M events, half its whole native load of the same lines (packages/store/BENCHMARKS.md).
 * A false positive only sends the id to the engine.
 */

/** Bits per filter: 1 MiB, about 0.4 % false positives at its capacity (blocked, below). */
const FILTER_BITS = 1 << 23;
/** Ids per filter before a new one is started (a scalable Bloom filter): 16.8 bits each. */
const FILTER_CAPACITY = Math.floor(FILTER_BITS / 16.8);
/**
 * Stored rows of a force up to which its ids' hashes are read into a filter when it is
 * first asked about (a member restarted over a populated store): ≈ 0.3 s and 4 MiB per
 * million rows on the first look-up (1 M: count 18 ms, hashes 75 ms, filter 184 ms), so
 * ≈ 1.5 s at the limit. A larger force is left to the engine, a query per look-up.
 */
export const SEED_LIMIT = 5_000_000;
/** Probes per id: optimal for 16.8 bits per id is ≈ 11, but 5 costs less and is close. */
const PROBES = 5;

/**
 * A blocked Bloom filter: all of an id's probes fall in one 512-bit block (one cache
 * line), chosen by the hash; the probes within it by a second hash made from the first.
 * A filter of several MiB (a seeded force) then costs one cache miss an id instead of five:
 * 1 M seeded ids took 530 ms with the probes spread over the whole filter.
 */
class BloomFilter {
  readonly #words: Int32Array;
  /** Blocks − 1 (a power of two). */
  readonly #blockMask: number;
  readonly capacity: number;
  count = 0;

  /** Sized for `ids` at 16.8 bits each, at least {@link FILTER_BITS}. */
  constructor(ids = FILTER_CAPACITY) {
    let bits = FILTER_BITS;
    while (bits / 16.8 < ids) bits *= 2;
    this.#words = new Int32Array(bits >>> 5);
    this.#blockMask = (bits >>> 9) - 1;
    this.capacity = Math.floor(bits / 16.8);
  }

  add(hash: number): void {
    const words = this.#words;
    const base = (hash & this.#blockMask) << 4;
    const inner = stepOf(hash);
    const step = (inner >>> 9) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (inner + Math.imul(i, step)) & 511;
      words[base + (bit >>> 5)]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  has(hash: number): boolean {
    const words = this.#words;
    const base = (hash & this.#blockMask) << 4;
    const inner = stepOf(hash);
    const step = (inner >>> 9) | 1;
    for (let i = 0; i < PROBES; i++) {
      const bit = (inner + Math.imul(i, step)) & 511;
      if ((words[base + (bit >>> 5)]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * A second hash made from the first (MurmurHash3's finalizer on it), for the probes
 * within a block: two ids share all their probes only when their 32-bit hashes are
 * equal, about 1 in 4 × 10⁹.
 */
function stepOf(hash: number): number {
  return fmix32(hash ^ 0x9e3779b9);
}

/** MurmurHash3's finalizer: every bit of the result depends on every bit of `h`. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3 (x86, 32-bit, seed 0) of the id's UTF-8 bytes — ClickHouse's
 * `murmurHash3_32(id)`, so that stored ids can be hashed by the engine. The UTF-8 is made
 * on the way, as the store writes it (an unpaired surrogate as U+FFFD).
 */
export function idHash(id: string): number {
  hashed = 0;
  block = 0;
  filled = 0;
  // ASCII four characters to a block, while they last (ids nearly always are).
  let index = 0;
  for (; index + 4 <= id.length; index += 4) {
    const c0 = id.charCodeAt(index);
    const c1 = id.charCodeAt(index + 1);
    const c2 = id.charCodeAt(index + 2);
    const c3 = id.charCodeAt(index + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) break;
    hashed = mixBody(hashed, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  length = index;
  for (; index < id.length; index++) {
    let code = id.charCodeAt(index);
    if (code < 0x80) {
      feed(code);
      continue;
    }
    if (code < 0x800) {
      feed(0xc0 | (code >>> 6));
      feed(0x80 | (code & 0x3f));
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = id.charCodeAt(index + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        index++;
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        feed(0xf0 | (code >>> 18));
        feed(0x80 | ((code >>> 12) & 0x3f));
        feed(0x80 | ((code >>> 6) & 0x3f));
        feed(0x80 | (code & 0x3f));
        continue;
      }
      code = 0xfffd;
    }
    feed(0xe0 | (code >>> 12));
    feed(0x80 | ((code >>> 6) & 0x3f));
    feed(0x80 | (code & 0x3f));
  }
  const tail = filled > 0 ? mixBlock(hashed, block) : hashed;
  return fmix32(tail ^ length) >>> 0;
}

/** {@link idHash}'s state as the bytes come (module-level: no closure per id). */
let hashed = 0;
let block = 0;
let filled = 0;
let length = 0;

function feed(byte: number): void {
  block |= byte << (filled * 8);
  length++;
  if (++filled === 4) {
    hashed = mixBody(hashed, block);
    block = 0;
    filled = 0;
  }
}

/** One whole 4-byte block into the hash. */
function mixBody(hash: number, block: number): number {
  const mixed = mixBlock(hash, block);
  return (Math.imul((mixed << 13) | (mixed >>> 19), 5) + 0xe6546b64) | 0;
}

/** A block into the hash: alone, the last bytes (fewer than 4). */
function mixBlock(hash: number, block: number): number {
  let k = Math.imul(block, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  return hash ^ k;
}

type ForceState =
  /**
   * Asked whether it has rows; the answer is pending (`answered` settles with it, either
   * way). `insertedMeanwhile`: a write raced it.
   */
  | { kind: 'probing'; insertedMeanwhile: boolean; answered: Promise<void> }
  /**
   * Asked before this process wrote to it: `filters` hold every id it had then (none, or
   * the hashes read from the engine) and every id written since.
   */
  | { kind: 'tracked'; filters: BloomFilter[] }
  /**
   * Written before it was asked about, or too large to read: the engine answers for it.
   */
  | { kind: 'stored' };

export class WrittenIds {
  readonly #forces = new Map<string, ForceState>();

  /**
   * Whether the filters can answer for `force` now, learning it on first use with
   * `countRows` (which must count the force's stored rows as of the call) and, where it
   * has rows, `storedHashes` (the {@link idHash} of each stored id, as of the call; without
   * it, or past {@link SEED_LIMIT} rows, the engine answers for the force).
   */
  async tracks(
    force: string,
    countRows: () => Promise<number>,
    storedHashes?: () => Promise<Uint32Array>,
  ): Promise<boolean> {
    let state = this.#forces.get(force);
    // Look-ups sent together (the first batches of a file, the first chunks of several
    // partitions) wait for the one question rather than each asking the engine about
    // every id; if it fails, the next asks again.
    while (state?.kind === 'probing') {
      await state.answered;
      state = this.#forces.get(force);
    }
    if (state === undefined) {
      let answer = () => {};
      const probe: ForceState = {
        kind: 'probing',
        insertedMeanwhile: false,
        answered: new Promise((resolve) => {
          answer = resolve;
        }),
      };
      this.#forces.set(force, probe);
      let filter: BloomFilter | undefined;
      try {
        const rows = await countRows();
        if (rows === 0) {
          filter = new BloomFilter();
        } else if (storedHashes !== undefined && rows <= SEED_LIMIT && !probe.insertedMeanwhile) {
          const hashes = await storedHashes();
          // Room for a filter's worth more before a second one is needed.
          filter = new BloomFilter(hashes.length + FILTER_CAPACITY);
          for (const hash of hashes) filter.add(hash);
        }
      } catch (error) {
        this.#forces.delete(force);
        answer();
        throw error;
      }
      state =
        filter !== undefined && !probe.insertedMeanwhile
          ? { kind: 'tracked', filters: [filter] }
          : { kind: 'stored' };
      this.#forces.set(force, state);
      answer();
    }
    return state.kind === 'tracked';
  }

  /**
   * Record ids about to be written (before the insert is sent, so that a look-up racing
   * it errs on the side of asking the engine; a failed insert leaves harmless positives).
   */
  add(force: string, id: string): void {
    const state = this.#forces.get(force);
    if (state === undefined) {
      // Written before anyone asked: from now on the engine has rows the filters lack.
      this.#forces.set(force, { kind: 'stored' });
    } else if (state.kind === 'probing') {
      state.insertedMeanwhile = true;
    } else if (state.kind === 'tracked') {
      let filter = state.filters[state.filters.length - 1]!;
      if (filter.count >= filter.capacity) {
        filter = new BloomFilter();
        state.filters.push(filter);
      }
      filter.add(idHash(id));
    }
  }

  /**
   * False only when `id` of a tracked force was certainly never written; call
   * {@link tracks} first.
   */
  mayHave(force: string, id: string): boolean {
    const state = this.#forces.get(force);
    if (state?.kind !== 'tracked') return true;
    const hash = idHash(id);
    for (const filter of state.filters) if (filter.has(hash)) return true;
    return false;
  }
}
