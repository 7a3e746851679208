/**
 * The store work behind acknowledgements, on chDB: recording one press (what a supervisor
 * waits for before the screen shows it), a node's once-a-second read of new ones (the
 * distributed mode's poll), a room's first load (the newest 2 000 of a force) and the
 * audit route's read (1 000 of a force over a week). Baseline in the same run: a count over the empty
 * events table through the same store, the floor of any query. The table holds `--rows` presses over a
 * year of 43 forces (a few hundred a day each), a tenth of breaches pressed twice.
 *
 *   node --import tsx services/api/bench/acknowledgements.bench.ts [--rows 200000] [--samples 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AcknowledgementRecord, openStore } from '@callmon/store';
import { openRawClient } from '@callmon/store/testing';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    samples: { type: 'string', default: '200' },
  },
});
const rows = Number(values.rows);
const samples = Number(values.samples);
const FORCES = Array.from({ length: 43 }, (_, i) => `force-${i}`);
const YEAR_MS = 365 * 86_400_000;
const END = Date.now();
const START = END - YEAR_MS;

function press(i: number): AcknowledgementRecord {
  const force = FORCES[i % FORCES.length]!;
  const at = START + Math.floor((i / rows) * YEAR_MS);
  const item = `call-${Math.floor(i / 10) * 10 + (i % 10 === 9 ? 0 : i % 10)}`;
  return {
    force,
    alert: `breach:call.unanswered:${item}:${at - 12_000}`,
    kind: 'breach',
    rule: 'call.unanswered',
    item,
    subject: `sgt.${i % 17}`,
    role: 'supervisor',
    at,
    node: `api-${i % 3}:1`,
  };
}

async function timed(name: string, work: () => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await work();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  const at = (p: number) => ms[Math.min(ms.length - 1, Math.ceil(p * ms.length) - 1)]!.toFixed(2);
  return { operation: name, samples, 'p50 ms': at(0.5), 'p95 ms': at(0.95), 'p99 ms': at(0.99) };
}

const dir = mkdtempSync(join(tmpdir(), 'callmon-ack-bench-'));
try {
  const store = await openStore({ dataDir: dir });
  // Seed through one INSERT … SELECT: the point is the reads, not a million single inserts.
  const raw = await openRawClient({ dataDir: dir });
  const seeded = performance.now();
  const batch = 50_000;
  for (let from = 0; from < rows; from += batch) {
    const values = [];
    for (let i = from; i < Math.min(rows, from + batch); i++) {
      const { at, ...rest } = press(i);
      values.push({ ...rest, at_ms: at });
    }
    await raw.insert({
      table: 'acknowledgements',
      columns: ['force', 'alert', 'kind', 'rule', 'item', 'subject', 'role', 'at_ms', 'node'],
      values,
      format: 'JSONEachRow',
    });
  }
  await raw.close();
  console.log(
    `acknowledgements: ${rows} presses over a year of ${FORCES.length} forces, seeded in ${(performance.now() - seeded).toFixed(0)} ms`,
  );
  let next = rows;
  const results = [
    await timed('baseline: count of an empty table (floor)', () =>
      store.countEvents({ force: 'x' }),
    ),
    await timed('record one press', () =>
      store.recordAcknowledgement({ ...press(next++), at: Date.now() }),
    ),
    await timed('poll: every force, the last 2 minutes', () =>
      store.listAcknowledgements({ from: Date.now() - 120_000, limit: 10_000, every: true }),
    ),
    await timed('room load: a force, newest 2 000', () =>
      store.listAcknowledgements({ force: 'force-7', limit: 2000, keep: 'newest' }),
    ),
    await timed('audit route: a force, a week, 1 001', () =>
      store.listAcknowledgements({
        force: 'force-7',
        from: END - 30 * 86_400_000,
        to: END - 23 * 86_400_000,
        limit: 1001,
      }),
    ),
  ];
  console.table(results);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
