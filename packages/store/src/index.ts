export {
  type AcknowledgementQuery,
  type AcknowledgementRecord,
  acknowledgementPrecedes,
} from './acknowledgements.ts';
export type { EmbeddedStoreOptions, ServerStoreOptions, StoreOptions } from './connection.ts';
export { type AppliedMigration, MigrationMismatchError } from './migrations/index.ts';
export {
  type EventRecord,
  IDENTITY_REJECT_REASONS,
  type RejectedEntry,
  type RejectedReason,
  type RejectedRecord,
  SOURCE_KINDS,
  type SourceKind,
  type SourcePosition,
  type StoredEvent,
} from './records.ts';
export type {
  RefreshWeekFactsOptions,
  RollingSnapshotOptions,
  WeekFactsRefresh,
  WeeklyReportOptions,
} from './reports/reports.ts';
export { encodeEventRow, encodePlainEventRow, RowBinaryWriter } from './rows.ts';
export {
  type BatchRows,
  type EncodedEventRow,
  type EventCountQuery,
  type EventRange,
  type InsertOptions,
  type KnownCopy,
  openStore,
  type RejectedQuery,
  type Store,
  StoreFailedError,
} from './store.ts';
