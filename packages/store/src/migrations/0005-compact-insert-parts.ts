import type { Migration } from './migration.ts';

/**
 * Parts written by an insert (level 0) in the Compact format: every column in one
 * `data.bin`, about 35 files a part instead of about 120 for a Wide part of a 50 000-row
 * batch (≈ 21 MB, over `min_bytes_for_wide_part`). Creating those files was the largest
 * single cost of an embedded insert (ext4 inode allocation ≈ a quarter of the engine's
 * CPU; BENCHMARKS.md, 2026-11-26 "the engine's share"). Parts made by merges (level ≥ 1)
 * are Wide again from 10 MB as before, so large parts keep per-column files; rows, keys,
 * codecs, indexes and the projection are unchanged, and reads measured the same.
 */
export const compactInsertParts: Migration = {
  version: 5,
  name: 'compact_insert_parts',
  statements: ['ALTER TABLE events MODIFY SETTING min_level_for_wide_part = 1'],
};
