import type { Area, Channel, Grade } from '@callmon/events';
import { type CallFacts, gradeAt, type IncidentFacts, seenBy } from './facts.ts';
import { answerWithinMs, attendanceTarget, type Policy, type PolicyVersion } from './policy.ts';

/**
 * The rules of metrics.md §2–§4, once. The batch evaluator, the live engine and the
 * tests that hold the SQL to account all classify through these functions.
 */

export type CallOutcome = 'answered' | 'abandoned' | 'unresolved';
export type CallClass = 'within' | 'breached' | 'pending' | 'excluded';

export interface CallAssessment {
  channel: Channel;
  version: PolicyVersion;
  outcome: CallOutcome;
  class: CallClass;
  /** Answered calls only: `answered_at − presented_at`, negative taken as 0. */
  answerMs: number | undefined;
  /** The answer time was negative (counted in data quality). */
  negative: boolean;
  /** `presented_at + S`: the call is breached if still unresolved after this instant. */
  deadline: number;
}

/** §2: classify a presented call as of `asOf` (its `presentedAt` must be `<= asOf`). */
export function assessCall(facts: CallFacts, policy: Policy, asOf: number): CallAssessment {
  const presentedAt = facts.presentedAt!;
  const channel = facts.channel!;
  const version = policy.versionAt(presentedAt);
  const withinMs = answerWithinMs(version, channel);
  const deadline = presentedAt + withinMs;
  const answeredAt = seenBy(facts.answeredAt, asOf);
  const abandonedAt = seenBy(facts.abandonedAt, asOf);

  if (answeredAt !== undefined && (abandonedAt === undefined || answeredAt <= abandonedAt)) {
    const raw = answeredAt - presentedAt;
    const answerMs = Math.max(raw, 0);
    return {
      channel,
      version,
      outcome: 'answered',
      class: answerMs <= withinMs ? 'within' : 'breached',
      answerMs,
      negative: raw < 0,
      deadline,
    };
  }
  if (abandonedAt !== undefined) {
    const rule = version.calls[channel].abandoned;
    const breach =
      rule === 'breach' || (rule === 'breach_if_late' && abandonedAt - presentedAt > withinMs);
    return {
      channel,
      version,
      outcome: 'abandoned',
      class: breach ? 'breached' : 'excluded',
      answerMs: undefined,
      negative: false,
      deadline,
    };
  }
  return {
    channel,
    version,
    outcome: 'unresolved',
    class: asOf - presentedAt > withinMs ? 'breached' : 'pending',
    answerMs: undefined,
    negative: false,
    deadline,
  };
}

export type AttendanceClass = 'within' | 'breached' | 'pending';
/** §4 classes; `not_counted` (not delayed yet) and `not_applicable` (attended within the grace) stay out of the ratio. */
export type VictimUpdateClass = 'not_counted' | 'not_applicable' | 'met' | 'breached' | 'pending';

export interface IncidentAssessment {
  version: PolicyVersion;
  area: Area;
  /** Effective grade: the grade at `max(opened_at, min(arrived_at, T))`. */
  grade: Grade;
  /** Whether `arrived_at − opened_at` was negative (counted in data quality). */
  negative: boolean;
  /** `arrived_at − opened_at`, negative taken as 0; undefined until attended. */
  attendMs: number | undefined;
  /** Undefined when the effective grade and area have no target: the incident is excluded. */
  target:
    | {
        key: string;
        deadline: number;
        /** Victim update due: `deadline + grace`. */
        due: number;
        attendance: AttendanceClass;
        victimUpdate: VictimUpdateClass;
      }
    | undefined;
}

/** §3 and §4: classify an opened incident as of `asOf` (its `openedAt` must be `<= asOf`). */
export function assessIncident(
  facts: IncidentFacts,
  policy: Policy,
  asOf: number,
): IncidentAssessment {
  const openedAt = facts.openedAt!;
  const area = facts.area!;
  const version = policy.versionAt(openedAt);
  const arrivedAt = seenBy(facts.arrivedAt, asOf);
  const gradeInstant = Math.max(
    openedAt,
    arrivedAt === undefined ? asOf : Math.min(arrivedAt, asOf),
  );
  const grade = gradeAt(facts, gradeInstant)!;
  const raw = arrivedAt === undefined ? undefined : arrivedAt - openedAt;
  const attendMs = raw === undefined ? undefined : Math.max(raw, 0);
  const negative = raw !== undefined && raw < 0;

  const target = attendanceTarget(version, grade, area);
  if (target === undefined) return { version, area, grade, negative, attendMs, target: undefined };

  const deadline = openedAt + target.withinMs;
  const due = deadline + version.victim_update.grace_s * 1000;
  const attendance: AttendanceClass =
    arrivedAt !== undefined
      ? arrivedAt <= deadline
        ? 'within'
        : 'breached'
      : asOf > deadline
        ? 'breached'
        : 'pending';

  let victimUpdate: VictimUpdateClass;
  const firstUpdateAt = seenBy(facts.firstUpdateAt, asOf);
  if (asOf <= deadline) victimUpdate = 'not_counted';
  else if (arrivedAt !== undefined && arrivedAt <= due) victimUpdate = 'not_applicable';
  else if (firstUpdateAt !== undefined && firstUpdateAt <= due) victimUpdate = 'met';
  else if (asOf > due) victimUpdate = 'breached';
  else victimUpdate = 'pending';

  return {
    version,
    area,
    grade,
    negative,
    attendMs,
    target: { key: target.key, deadline, due, attendance, victimUpdate },
  };
}

/**
 * Answer/abandon events of this call that are orphans as of `asOf` and dated in
 * `[from, to)`: events with `at <= asOf` whose call has no `call.presented` at or
 * before `asOf`.
 */
export function orphanEventsOf(facts: CallFacts, from: number, to: number, asOf: number): number {
  const early = facts.earlyResponses;
  if (early === undefined) return 0;
  if (facts.presentedAt !== undefined && facts.presentedAt <= asOf) return 0;
  let count = 0;
  for (const at of early) if (at >= from && at < to && at <= asOf) count++;
  return count;
}
