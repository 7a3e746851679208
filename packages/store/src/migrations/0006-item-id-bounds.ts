import type { Migration } from './migration.ts';

/**
 * Range indexes on the call and incident ids that the engine uses for range conditions,
 * replacing 0003's (README, Reports).
 *
 * A report reads every event of its window's calls and incidents, however far from the
 * window they are dated. 0003's indexes skip granules only for `IN (ids)`, never for a
 * range: the engine turns a comparison of `ifNull(call, '')` with a constant into one on
 * `call` before it picks indexes (engine 26.7). So the report had to build the window's id
 * sets before it could plan its read. These index the columns themselves, so a report bounds its
 * ids by the lowest and highest of the window (found first, by primary key) and states
 * them as constants:
 *
 * - `call_min` (minmax of `call`): NULL sorts last in a Nullable minmax, so a granule's
 *   maximum is NULL (unbounded) wherever it holds an event without a call, but its minimum
 *   is the lowest call id: it answers `call <= highest`.
 * - `call_max` (minmax of `assumeNotNull(call)`, where an event without a call counts as
 *   the empty string): its maximum is the highest call id: it answers
 *   `assumeNotNull(call) >= lowest`.
 *
 * Likewise for `incident`. Each granule is skipped only when no row in it can meet the
 * condition, whatever `assumeNotNull` gives for NULL, since the index is computed from the
 * very expression the condition states. MATERIALIZE builds the new indexes for parts
 * written before this step, as a background mutation; until it finishes, reads are as
 * correct and only slower.
 */
export const itemIdBounds: Migration = {
  version: 6,
  name: 'item_id_bounds',
  statements: [
    'ALTER TABLE events ADD INDEX IF NOT EXISTS call_min call TYPE minmax GRANULARITY 1',
    'ALTER TABLE events ADD INDEX IF NOT EXISTS call_max assumeNotNull(call) TYPE minmax GRANULARITY 1',
    'ALTER TABLE events ADD INDEX IF NOT EXISTS incident_min incident TYPE minmax GRANULARITY 1',
    'ALTER TABLE events ADD INDEX IF NOT EXISTS incident_max assumeNotNull(incident) TYPE minmax GRANULARITY 1',
    'ALTER TABLE events DROP INDEX IF EXISTS call_from',
    'ALTER TABLE events DROP INDEX IF EXISTS call_to',
    'ALTER TABLE events DROP INDEX IF EXISTS incident_from',
    'ALTER TABLE events DROP INDEX IF EXISTS incident_to',
    'ALTER TABLE events MATERIALIZE INDEX call_min',
    'ALTER TABLE events MATERIALIZE INDEX call_max',
    'ALTER TABLE events MATERIALIZE INDEX incident_min',
    'ALTER TABLE events MATERIALIZE INDEX incident_max',
  ],
};
