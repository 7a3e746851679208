import type { Migration } from './migration.ts';

/**
 * Range indexes on the call and incident ids, for the report queries (README, Reports).
 *
 * A figure as of `T` depends on every event of its calls and incidents up to `T`, however
 * far from the reporting window they are dated, so a report looks its items' events up by
 * id across the force's whole history. `events` is ordered by time, and the bloom filters
 * of 0001 are no help for tens of thousands of ids at once. A minmax index per granule
 * lets the engine skip every granule whose id range misses the window's ids: when a force's
 * ids sort in time order (sequence numbers, date-prefixed references) that is nearly all
 * of them. Each id gets two indexes because a granule also holds events without that id
 * (NULL): `ifNull(…, '')` bounds a granule's ids from below, `ifNull(…, '\xFF')` (above any
 * UTF-8 text) from above, and a query states both conditions.
 *
 * MATERIALIZE builds the indexes for parts written before this step, as a background
 * mutation; until it finishes, reads are as correct and only slower.
 */
export const itemRanges: Migration = {
  version: 3,
  name: 'item_ranges',
  statements: [
    "ALTER TABLE events ADD INDEX IF NOT EXISTS call_from ifNull(call, '') TYPE minmax GRANULARITY 1",
    "ALTER TABLE events ADD INDEX IF NOT EXISTS call_to ifNull(call, '\\xFF') TYPE minmax GRANULARITY 1",
    "ALTER TABLE events ADD INDEX IF NOT EXISTS incident_from ifNull(incident, '') TYPE minmax GRANULARITY 1",
    "ALTER TABLE events ADD INDEX IF NOT EXISTS incident_to ifNull(incident, '\\xFF') TYPE minmax GRANULARITY 1",
    'ALTER TABLE events MATERIALIZE INDEX call_from',
    'ALTER TABLE events MATERIALIZE INDEX call_to',
    'ALTER TABLE events MATERIALIZE INDEX incident_from',
    'ALTER TABLE events MATERIALIZE INDEX incident_to',
  ],
};
