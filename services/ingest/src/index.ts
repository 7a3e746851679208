export { INGEST_HELP, ingestCommand, summaryLine } from './ingest-command.ts';
export { KafkaIngest, type KafkaIngestMetrics, type KafkaIngestOptions } from './kafka-ingest.ts';
export type { KafkaIngestHooks } from './kafka-ingest-command.ts';
export { KafkaLiveState, LIVE_LATENESS_MS } from './kafka-live-state.ts';
export { LIVE_HELP, liveCommand } from './live-command.ts';
export { describeCounts, type ReplayCounts, replayLive } from './live-replay.ts';
export { LiveBus, type LiveBusEvents, LiveState } from './live-state.ts';
export { createLog } from './log.ts';
export { isBlank, openNdjson, readNdjsonLines, type SourceLine } from './ndjson-source.ts';
export {
  batchToken,
  type IngestCounts,
  IngestPipeline,
  type PipelineOptions,
  type RawInput,
  validate,
} from './pipeline.ts';
export { loadPolicy } from './policy-file.ts';
export { Progress } from './progress.ts';
export { systemClock } from './system-clock.ts';
export { FileWriteJournal, WRITE_JOURNAL_FILE, type WriteJournal } from './write-journal.ts';
