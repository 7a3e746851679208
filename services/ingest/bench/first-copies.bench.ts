/**
 * The pipeline's first-copy bookkeeping for a file backfill: every line's id added,
 * looked up and later forgotten, 50,000 lines to a batch, four batches remembered at once.
 *
 *   npx tsx services/ingest/bench/first-copies.bench.ts [--lines 1018515] [--rounds 5]
 *
 * Baseline in the same run: the same work on a `Map` of ids per force, as the pipeline
 * kept it before {@link FirstCopies} (set on a miss, deleted when the batch retires).
 * The ids are fresh strings each round, like the ones a parse worker's reply carries.
 */
import { parseArgs } from 'node:util';
import { FirstCopies } from '../src/first-copies.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1018515' },
    rounds: { type: 'string', default: '5' },
  },
});
const lines = Number(values.lines);
const rounds = Number(values.rounds);
const BATCH = 50_000;
const IN_FLIGHT = 4;

function freshIds(): string[] {
  // Shaped like the simulator's ids ("nor-240219-000001-p"); parsed out of JSON, as a
  // worker's reply is deserialized, so no string is shared between rounds.
  const ids = Array.from(
    { length: lines },
    (_, n) => `nor-${240219 + Math.floor(n / 4000)}-${String(n % 4000).padStart(6, '0')}-p`,
  );
  return JSON.parse(JSON.stringify(ids)) as string[];
}

function withMap(ids: string[]): number {
  const seen = new Map<string, number>();
  const retiring: string[][] = [];
  let repeats = 0;
  for (let start = 0; start < ids.length; start += BATCH) {
    const added: string[] = [];
    for (let index = start; index < Math.min(ids.length, start + BATCH); index++) {
      const id = ids[index]!;
      if (seen.get(id) === undefined) {
        seen.set(id, index);
        added.push(id);
      } else {
        repeats++;
      }
    }
    retiring.push(added);
    if (retiring.length > IN_FLIGHT) for (const id of retiring.shift()!) seen.delete(id);
  }
  return repeats;
}

function withTable(ids: string[]): number {
  const copies = new FirstCopies<number>();
  const force = copies.force('northants');
  let repeats = 0;
  let batch = 0;
  for (let start = 0; start < ids.length; start += BATCH) {
    copies.begin(++batch);
    for (let index = start; index < Math.min(ids.length, start + BATCH); index++) {
      if (force.get(ids[index]!) === undefined) force.add(index);
      else repeats++;
    }
    if (batch > IN_FLIGHT) copies.retireUpTo(batch - IN_FLIGHT);
  }
  return repeats;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const timings = { map: [] as number[], table: [] as number[] };
for (let round = 0; round < rounds; round++) {
  // Alternated, each on its own fresh ids.
  for (const [name, run] of [
    ['map', withMap],
    ['table', withTable],
  ] as const) {
    const ids = freshIds();
    const began = performance.now();
    const repeats = run(ids);
    timings[name].push(performance.now() - began);
    if (repeats !== 0) throw new Error(`${name}: ${repeats} repeats among distinct ids`);
  }
}
console.log(`${lines.toLocaleString('en-GB')} ids, ${rounds} rounds, node ${process.version}`);
console.log(`Map of ids (baseline): median ${median(timings.map).toFixed(0)} ms`);
console.log(`FirstCopies:           median ${median(timings.table).toFixed(0)} ms`);
