/**
 * Copying message values out of a fetched buffer into one chunk buffer, as the Kafka
 * ingest does for every message (`copyMessageValue`, src/message-bytes.ts): 300,000
 * values of 175 bytes from a 16 MiB buffer, three ways, each warmed up, then the median
 * of 7 rounds.
 *
 *   npx tsx packages/queue/bench/value-copy.bench.ts
 *
 * - view: `target.set(new Uint8Array(buffer, offset, length), at)` (what the ingest does);
 * - Buffer#copy: Node's `source.copy(target, at, start, end)`;
 * - subarray: `target.set(source.subarray(start, end), at)` (a Buffer made to copy from);
 * - loop: byte by byte.
 */
const SOURCE_BYTES = 16 << 20;
const VALUES = 300_000;
const LENGTH = 175;

const source = Buffer.allocUnsafeSlow(SOURCE_BYTES);
for (let index = 0; index < source.length; index++) source[index] = index & 0xff;
const starts = Array.from({ length: VALUES }, (_, index) => (index * 53) % (SOURCE_BYTES - LENGTH));
const target = Buffer.allocUnsafeSlow(VALUES * (LENGTH + 1));

const ways: Record<string, () => void> = {
  view() {
    let at = 0;
    for (const start of starts) {
      target.set(new Uint8Array(source.buffer, source.byteOffset + start, LENGTH), at);
      at += LENGTH + 1;
    }
  },
  'Buffer#copy'() {
    let at = 0;
    for (const start of starts) {
      source.copy(target, at, start, start + LENGTH);
      at += LENGTH + 1;
    }
  },
  subarray() {
    let at = 0;
    for (const start of starts) {
      target.set(source.subarray(start, start + LENGTH), at);
      at += LENGTH + 1;
    }
  },
  loop() {
    let at = 0;
    for (const start of starts) {
      for (let index = 0; index < LENGTH; index++) target[at + index] = source[start + index]!;
      at += LENGTH + 1;
    }
  },
};

for (const [name, copy] of Object.entries(ways)) {
  for (let round = 0; round < 3; round++) copy();
  const times: number[] = [];
  for (let round = 0; round < 7; round++) {
    const started = performance.now();
    copy();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(12)} median ${times[3]!.toFixed(1)} ms for ${VALUES} values`);
}
