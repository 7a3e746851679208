/**
 * The store's batch-file rows, encoded where the caller likes: a parse worker thread
 * imports this entry (`@callmon/store/rows`) instead of the store's, so that it loads
 * neither the engine nor the client it never uses.
 */
import { writeEventRow, writePlainEventRow } from './records.ts';

export type { SourceKind } from './records.ts';
export { RowBinaryWriter } from './row-binary.ts';

/**
 * One event's row of an embedded batch file, as `Store.insertEncodedEvents` takes it:
 * what `insertEvents` writes for the record, built where the caller likes (a worker
 * thread parses, fingerprints and encodes while the store's thread decides and writes).
 */
export const encodeEventRow = writeEventRow;

/**
 * {@link encodeEventRow} for a line `scanPlainEvent` (@callmon/events) has just accepted,
 * straight from its bytes: the same row, with no event object in between.
 */
export const encodePlainEventRow = writePlainEventRow;
