import type { Migration } from './migration.ts';

/**
 * `raw` (the line or message as received) compressed with ZSTD at level 1 instead of 3, in
 * `events` and `rejected_events`. On simulated events level 1 is both cheaper and, for this
 * text, no larger: 3.16 MiB against 3.36 MiB for 201,602 lines (35 MiB), and a 25,000-row
 * insert into `events` took 0–21 % less engine time in five runs (median 19 %;
 * packages/store/BENCHMARKS.md, "What each part of the schema costs an insert"). Only the
 * codec changes: existing parts keep theirs until merged, and read the same either way.
 */
export const rawZstd1: Migration = {
  version: 8,
  name: 'raw_zstd1',
  statements: [
    'ALTER TABLE events MODIFY COLUMN raw String CODEC(ZSTD(1))',
    'ALTER TABLE rejected_events MODIFY COLUMN raw String DEFAULT base64Decode(raw_base64) CODEC(ZSTD(1))',
  ],
};
