export { LIVE_HELP, liveCommand } from './live-command.ts';
export { describeCounts, type ReplayCounts, replayLive } from './live-replay.ts';
export { isBlank, openNdjson, readNdjsonLines, type SourceLine } from './ndjson-source.ts';
export { loadPolicy } from './policy-file.ts';
