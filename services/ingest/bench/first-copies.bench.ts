/**
 * Deciding first copies across batches in flight: `FirstCopies` (one open-addressing
 * table, a batch forgotten by one number) against the `Map` by force then id it replaced
 * (a delete per id when a batch is forgotten), on the same ids, alternating.
 *
 *   npx tsx services/ingest/bench/first-copies.bench.ts [--lines 1000000] [--batch 50000]
 *       [--in-flight 4] [--repeats 0.05] [--rounds 5]
 *
 * Each round decides `lines` ids in batches of `batch`, keeping the last `in-flight`
 * batches' copies and forgetting older ones, as the pipeline does on a file backfill.
 * A share `repeats` of the lines repeats an id of the batch before (a duplicate to find).
 * Both sides must find the same number of repeats. Prints ns per line.
 */
import { parseArgs } from 'node:util';
import { FirstCopies, idHash } from '../src/first-copies.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '50000' },
    'in-flight': { type: 'string', default: '4' },
    repeats: { type: 'string', default: '0.05' },
    rounds: { type: 'string', default: '5' },
  },
});
const lines = Number(values.lines);
const batchSize = Number(values.batch);
const inFlight = Number(values['in-flight']);
const repeats = Number(values.repeats);
const rounds = Number(values.rounds);

/** Ids shaped like the simulator's, fresh strings per batch (as the workers hand them over). */
function makeBatches(): string[][] {
  const batches: string[][] = [];
  let seed = 42;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let start = 0; start < lines; start += batchSize) {
    const ids: string[] = [];
    for (let n = start; n < Math.min(lines, start + batchSize); n++) {
      const previous = batches.at(-1);
      if (previous !== undefined && random() < repeats) {
        // Another string with the same characters, as a repeat arrives.
        ids.push(` ${previous[Math.floor(random() * previous.length)]}`.slice(1));
      } else {
        ids.push(`c${String(n).padStart(9, '0')}-${(n % 7).toString(36)}`);
      }
    }
    batches.push(ids);
  }
  return batches;
}

type Copy = { id: string };

function withTable(batches: string[][]): number {
  const copies = new FirstCopies<Copy>();
  let found = 0;
  batches.forEach((ids, index) => {
    const batch = index + 1;
    for (const id of ids) {
      const hash = idHash(id);
      if (copies.get('f1', id, hash) !== undefined) found++;
      else copies.add('f1', id, hash, { id }, batch);
    }
    if (batch > inFlight) copies.forget(batch - inFlight);
  });
  return found;
}

function withMap(batches: string[][]): number {
  const seen = new Map<string, Map<string, Copy>>();
  const added: string[][] = [];
  let found = 0;
  for (const ids of batches) {
    let copies = seen.get('f1');
    if (copies === undefined) {
      copies = new Map();
      seen.set('f1', copies);
    }
    const batchIds: string[] = [];
    for (const id of ids) {
      if (copies.get(id) !== undefined) found++;
      else {
        copies.set(id, { id });
        batchIds.push(id);
      }
    }
    added.push(batchIds);
    if (added.length > inFlight) for (const id of added.shift()!) copies.delete(id);
  }
  return found;
}

console.log(
  `${lines} lines, batches of ${batchSize}, ${inFlight} in flight, ${repeats * 100} % repeats; node ${process.version}`,
);
const results: Record<string, number[]> = { FirstCopies: [], Map: [] };
for (let round = 0; round < rounds; round++) {
  const order =
    round % 2 === 0 ? (['FirstCopies', 'Map'] as const) : (['Map', 'FirstCopies'] as const);
  const counts: number[] = [];
  for (const side of order) {
    const batches = makeBatches();
    const started = performance.now();
    counts.push(side === 'FirstCopies' ? withTable(batches) : withMap(batches));
    results[side]!.push(((performance.now() - started) * 1e6) / lines);
  }
  if (counts[0] !== counts[1])
    throw new Error(`the two found ${counts[0]} and ${counts[1]} repeats`);
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const [side, perLine] of Object.entries(results)) {
  console.log(
    `${side.padEnd(12)} median ${median(perLine).toFixed(0)} ns/line  (${perLine.map((n) => n.toFixed(0)).join(', ')})`,
  );
}
