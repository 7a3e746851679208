import { events } from './0001-events.ts';
import { rejectedEvents } from './0002-rejected-events.ts';
import { itemRanges } from './0003-item-ranges.ts';
import { acknowledgements } from './0004-acknowledgements.ts';
import { compactInsertParts } from './0005-compact-insert-parts.ts';
import { itemIdBounds } from './0006-item-id-bounds.ts';
import { weekFacts } from './0007-week-facts.ts';
import { rawZstd1 } from './0008-raw-zstd1.ts';
import type { Migration } from './migration.ts';

/** Every migration, in the order it is applied. */
export const MIGRATIONS: readonly Migration[] = [
  events,
  rejectedEvents,
  itemRanges,
  acknowledgements,
  compactInsertParts,
  itemIdBounds,
  weekFacts,
  rawZstd1,
];

export type { Migration } from './migration.ts';
export { type AppliedMigration, applyMigrations, MigrationMismatchError } from './runner.ts';
