import type { Channel } from '@callmon/events';
import type { CallFacts, IncidentFacts } from './facts.ts';
import type { Policy } from './policy.ts';
import { assessCall, assessIncident, orphanEventsOf } from './rules.ts';

/** The figure shapes of metrics.md §7, in the key order the canonical JSON uses. */

export interface Distribution {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  max: number | null;
  mean: number | null;
}

export interface AnswerBands {
  le_10s: number;
  s10_to_60: number;
  gt_60s: number;
}

export interface ChannelFigures {
  presented: number;
  answered: number;
  abandoned: number;
  unresolved: number;
  within: number;
  breached: number;
  pending: number;
  excluded: number;
  compliance: number | null;
  answer_ms: Distribution;
  bands: AnswerBands;
}

export interface AttendanceFigures {
  incidents: number;
  attended: number;
  within: number;
  breached: number;
  pending: number;
  compliance: number | null;
  attend_ms: Distribution;
}

export interface VictimUpdateFigures {
  met: number;
  breached: number;
  pending: number;
  compliance: number | null;
}

export interface DataQuality {
  negative_durations: number;
  orphan_events: number;
}

export interface WindowFigures {
  calls: Record<Channel, ChannelFigures>;
  attendance: Record<string, AttendanceFigures>;
  victim_updates: VictimUpdateFigures;
}

/** `[from, to)` in UTC ms. A rolling window `(T − W, T]` is `[T − W + 1, T + 1)`. */
export interface Span {
  from: number;
  to: number;
}

export function ratio(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}

/**
 * Nearest rank: the value at 1-based rank `ceil(p × n)` of the ascending values.
 * Computed in integer percent so that no product like `p × n` can land a hair above a
 * whole number and pick the next rank; the SQL does the same integer arithmetic.
 */
export function nearestRank(sorted: readonly number[], percent: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.floor((percent * n + 99) / 100);
  return sorted[rank - 1]!;
}

/** §5 distribution of non-negative integer durations. Sorts `values` in place. */
export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { p50: null, p90: null, p95: null, max: null, mean: null };
  values.sort((a, b) => a - b);
  let sum = 0;
  for (const value of values) sum += value;
  return {
    p50: nearestRank(values, 50),
    p90: nearestRank(values, 90),
    p95: nearestRank(values, 95),
    max: values[values.length - 1]!,
    mean: sum / values.length,
  };
}

interface ChannelTally extends Omit<ChannelFigures, 'compliance' | 'answer_ms'> {
  answerTimes: number[];
}

function channelTally(): ChannelTally {
  return {
    presented: 0,
    answered: 0,
    abandoned: 0,
    unresolved: 0,
    within: 0,
    breached: 0,
    pending: 0,
    excluded: 0,
    bands: { le_10s: 0, s10_to_60: 0, gt_60s: 0 },
    answerTimes: [],
  };
}

function finishChannel(tally: ChannelTally): ChannelFigures {
  return {
    presented: tally.presented,
    answered: tally.answered,
    abandoned: tally.abandoned,
    unresolved: tally.unresolved,
    within: tally.within,
    breached: tally.breached,
    pending: tally.pending,
    excluded: tally.excluded,
    compliance: ratio(tally.within, tally.breached),
    answer_ms: distribution(tally.answerTimes),
    bands: tally.bands,
  };
}

interface AttendanceTally {
  incidents: number;
  attended: number;
  within: number;
  breached: number;
  pending: number;
  attendTimes: number[];
}

export interface EvaluatedWindow extends WindowFigures {
  data_quality: DataQuality;
}

/**
 * The figures of one window: calls presented and incidents opened in `span`, each
 * classified as of `asOf`. Callers pass facts folded from accepted, de-duplicated
 * events; facts of items outside the span, or not yet presented/opened as of `asOf`,
 * are skipped here, so a caller may pass all it has.
 */
export function evaluateWindow(
  calls: Iterable<CallFacts>,
  incidents: Iterable<IncidentFacts>,
  span: Span,
  asOf: number,
  policy: Policy,
): EvaluatedWindow {
  const channels: Record<Channel, ChannelTally> = { '999': channelTally(), '101': channelTally() };
  const quality: DataQuality = { negative_durations: 0, orphan_events: 0 };

  for (const call of calls) {
    quality.orphan_events += orphanEventsOf(call, span.from, span.to, asOf);
    const presentedAt = call.presentedAt;
    if (presentedAt === undefined || presentedAt > asOf) continue;
    if (presentedAt < span.from || presentedAt >= span.to) continue;
    const assessment = assessCall(call, policy, asOf);
    const tally = channels[assessment.channel];
    tally.presented++;
    tally[assessment.outcome]++;
    tally[assessment.class]++;
    if (assessment.answerMs !== undefined) {
      const answerMs = assessment.answerMs;
      tally.answerTimes.push(answerMs);
      if (answerMs <= 10_000) tally.bands.le_10s++;
      else if (answerMs <= 60_000) tally.bands.s10_to_60++;
      else tally.bands.gt_60s++;
    }
    if (assessment.negative) quality.negative_durations++;
  }

  const attendance = new Map<string, AttendanceTally>();
  for (const key of policy.attendanceKeys()) {
    attendance.set(key, {
      incidents: 0,
      attended: 0,
      within: 0,
      breached: 0,
      pending: 0,
      attendTimes: [],
    });
  }
  const victim = { met: 0, breached: 0, pending: 0 };

  for (const incident of incidents) {
    const openedAt = incident.openedAt;
    if (openedAt === undefined || openedAt > asOf) continue;
    if (openedAt < span.from || openedAt >= span.to) continue;
    const assessment = assessIncident(incident, policy, asOf);
    if (assessment.negative) quality.negative_durations++;
    const target = assessment.target;
    if (target === undefined) continue;
    const tally = attendance.get(target.key)!;
    tally.incidents++;
    tally[target.attendance]++;
    if (assessment.attendMs !== undefined) {
      tally.attended++;
      tally.attendTimes.push(assessment.attendMs);
    }
    const update = target.victimUpdate;
    if (update === 'met' || update === 'breached' || update === 'pending') victim[update]++;
  }

  const attendanceFigures: Record<string, AttendanceFigures> = {};
  for (const [key, tally] of attendance) {
    attendanceFigures[key] = {
      incidents: tally.incidents,
      attended: tally.attended,
      within: tally.within,
      breached: tally.breached,
      pending: tally.pending,
      compliance: ratio(tally.within, tally.breached),
      attend_ms: distribution(tally.attendTimes),
    };
  }

  return {
    calls: { '999': finishChannel(channels['999']), '101': finishChannel(channels['101']) },
    attendance: attendanceFigures,
    victim_updates: { ...victim, compliance: ratio(victim.met, victim.breached) },
    data_quality: quality,
  };
}
