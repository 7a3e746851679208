/**
 * Embedded mode: the ids this process has written, for each force that had no rows when
 * the process first asked about it, as Bloom filters. chDB locks its data folder to one
 * process, so for such a force nothing but this store's own inserts can add an id: an id
 * the filter has never seen is certainly not stored, and the duplicate check need not ask
 * the engine about it. On a file backfill that is nearly every id of every batch, and
 * the look-up queries cost the engine ≈ 6 CPU-seconds per 1 M events, half its whole
 * native load of the same lines (packages/store/BENCHMARKS.md). A false positive only
 * sends the id to the engine.
 */

/** Bits per filter: 1 MiB, about 0.1 % false positives at its capacity. */
const FILTER_BITS = 1 << 23;
/** Ids per filter before a new one is started (a scalable Bloom filter). */
const FILTER_CAPACITY = 500_000;
/** Probes per id: optimal for 16.8 bits per id is ≈ 11, but 5 costs less and is close. */
const PROBES = 5;

class BloomFilter {
  readonly #bits = new Int32Array(FILTER_BITS >>> 5);
  count = 0;

  add(h1: number, h2: number): void {
    const bits = this.#bits;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (FILTER_BITS - 1);
      bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count++;
  }

  has(h1: number, h2: number): boolean {
    const bits = this.#bits;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (FILTER_BITS - 1);
      if ((bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two independent 32-bit hashes of a string's code units (FNV-1a and a multiplicative mix). */
let hash1 = 0;
let hash2 = 0;
function hashId(id: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hash1 = a >>> 0;
  // Odd, so that the probes of one id never collapse onto one bit.
  hash2 = (b | 1) >>> 0;
}

type ForceState =
  /**
   * Asked whether it has rows; the answer is pending (`answered` settles with it, either
   * way). `insertedMeanwhile`: a write raced it.
   */
  | { kind: 'probing'; insertedMeanwhile: boolean; answered: Promise<void> }
  /** Had no rows when asked, before this process wrote any: `filters` hold every id since. */
  | { kind: 'fresh'; filters: BloomFilter[] }
  /** Had rows, or was written before it was asked about: the engine answers for it. */
  | { kind: 'stored' };

export class WrittenIds {
  readonly #forces = new Map<string, ForceState>();

  /**
   * Whether the filters can answer for `force` now, learning it on first use with
   * `countRows` (which must count the force's stored rows as of the call).
   */
  async tracks(force: string, countRows: () => Promise<number>): Promise<boolean> {
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
      let rows: number;
      try {
        rows = await countRows();
      } catch (error) {
        this.#forces.delete(force);
        answer();
        throw error;
      }
      state =
        rows === 0 && !probe.insertedMeanwhile
          ? { kind: 'fresh', filters: [new BloomFilter()] }
          : { kind: 'stored' };
      this.#forces.set(force, state);
      answer();
    }
    return state.kind === 'fresh';
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
    } else if (state.kind === 'fresh') {
      let filter = state.filters[state.filters.length - 1]!;
      if (filter.count >= FILTER_CAPACITY) {
        filter = new BloomFilter();
        state.filters.push(filter);
      }
      hashId(id);
      filter.add(hash1, hash2);
    }
  }

  /**
   * False only when `id` of a tracked force was certainly never written; call
   * {@link tracks} first.
   */
  mayHave(force: string, id: string): boolean {
    const state = this.#forces.get(force);
    if (state?.kind !== 'fresh') return true;
    hashId(id);
    for (const filter of state.filters) if (filter.has(hash1, hash2)) return true;
    return false;
  }
}
