export {
  CalendarError,
  type CalendarWindow,
  isoWeekAfter,
  isoWeekOf,
  isoWeeksInYear,
  isoWeekWindow,
  localMidnightToUtc,
  zoneOffsetMs,
} from './calendar.ts';
export { type Admission, EventDeduper, ForceDeduper } from './dedupe.ts';
export { FactBook } from './fact-book.ts';
export {
  type CallFacts,
  compareIds,
  foldCallEvent,
  foldIncidentEvent,
  type GradeMark,
  gradeAt,
  type IncidentFacts,
} from './facts.ts';
export {
  type AnswerBands,
  type AttendanceFigures,
  type ChannelFigures,
  type DataQuality,
  type Distribution,
  distribution,
  type EvaluatedWindow,
  evaluateWindow,
  nearestRank,
  ratio,
  type Span,
  type VictimUpdateFigures,
  type WindowFigures,
} from './figures.ts';
export {
  type ApplyOutcome,
  type BreachAlert,
  type ClearedAlert,
  type EngineStats,
  type LiveAlert,
  LiveEngine,
  type LiveEngineOptions,
  type LiveRule,
  type LiveStatus,
  type OutstandingIncident,
  type RingingCall,
  type UpdateOwed,
} from './live-engine.ts';
export {
  type AbandonedRule,
  answerWithinMs,
  attendanceKey,
  attendanceTarget,
  type ForcePolicyFile,
  forcePolicyFileSchema,
  Policy,
  PolicyError,
  type PolicyVersion,
  type PolicyVersionDocument,
  policyVersionSchema,
  UK_DEFAULT_POLICY,
} from './policy.ts';
export {
  factsAsOf,
  LIVE_WINDOW_NAMES,
  LIVE_WINDOWS,
  type LiveSnapshot,
  type LiveWindowName,
  LONGEST_WINDOW_MS,
  liveSnapshotFrom,
  rollingSnapshot,
  rollingSpan,
  snapshotOf,
  type WeeklyReport,
  weeklyReport,
  weeklyReportFrom,
} from './reports.ts';
export {
  type AttendanceClass,
  assessCall,
  assessIncident,
  type CallAssessment,
  type CallClass,
  type CallOutcome,
  type IncidentAssessment,
  orphanEventsOf,
  type VictimUpdateClass,
} from './rules.ts';
export { TargetAlarm, type TargetAlarmOptions, type WindowAlert } from './target-alarm.ts';

/** Engine time source for services; domain code never reads the wall clock itself. */
export interface Clock {
  now(): number;
}
