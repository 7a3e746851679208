import type { Area, CallEvent, Channel, Grade, IncidentEvent } from '@callmon/events';

/**
 * Per-call and per-incident facts folded from accepted, de-duplicated events
 * (metrics.md §2–§4). Every fact is a minimum over events or a sorted history, so the
 * fold gives the same facts whatever the arrival order, and the facts as of any `T`
 * can be read off without replaying: a minimum at or before `T` is the minimum over the
 * events with `at <= T`.
 *
 * "Earliest" ties are broken by event id in code-point order (the smallest id wins),
 * which is also ClickHouse's byte order of UTF-8 strings, so SQL picks the same event.
 */

export interface CallFacts {
  readonly call: string;
  presentedAt?: number;
  presentedId?: string;
  channel?: Channel;
  answeredAt?: number;
  abandonedAt?: number;
  /**
   * Times of answer/abandon events earlier than `presentedAt` (all of them while no
   * `call.presented` is known). Only these can be orphans as of some `T`: a response at
   * or after `presentedAt` has its presentation visible whenever it is.
   */
  earlyResponses?: number[];
}

export interface GradeMark {
  at: number;
  /** 0 for `incident.opened`, 1 for `incident.regraded`: a regrade wins a tie. */
  rank: 0 | 1;
  id: string;
  grade: Grade;
}

export interface IncidentFacts {
  readonly incident: string;
  openedAt?: number;
  openedId?: string;
  area?: Area;
  district?: string;
  /** Opened and regraded marks in (at, rank, id) order. */
  grades: GradeMark[];
  arrivedAt?: number;
  firstUpdateAt?: number;
}

/** Code-point order, which equals the byte order of the UTF-8 encodings. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : 1;
}

function earlier(
  at: number,
  id: string,
  currentAt: number | undefined,
  currentId: string | undefined,
) {
  return (
    currentAt === undefined ||
    at < currentAt ||
    (at === currentAt && compareIds(id, currentId!) < 0)
  );
}

function minOf(current: number | undefined, at: number): number {
  return current === undefined || at < current ? at : current;
}

export function newCallFacts(call: string): CallFacts {
  return { call };
}

export function newIncidentFacts(incident: string): IncidentFacts {
  return { incident, grades: [] };
}

/** Fold one call event into its call's facts. Returns whether the facts changed. */
export function foldCallEvent(facts: CallFacts, event: CallEvent): boolean {
  switch (event.type) {
    case 'call.presented': {
      if (!earlier(event.at, event.id, facts.presentedAt, facts.presentedId)) return false;
      facts.presentedAt = event.at;
      facts.presentedId = event.id;
      facts.channel = event.channel;
      if (facts.earlyResponses !== undefined) {
        const presentedAt = event.at;
        const stillEarly = facts.earlyResponses.filter((at) => at < presentedAt);
        facts.earlyResponses = stillEarly.length > 0 ? stillEarly : undefined;
      }
      return true;
    }
    case 'call.answered':
    case 'call.abandoned': {
      let changed = false;
      if (facts.presentedAt === undefined || event.at < facts.presentedAt) {
        if (facts.earlyResponses === undefined) facts.earlyResponses = [event.at];
        else facts.earlyResponses.push(event.at);
        changed = true;
      }
      if (event.type === 'call.answered') {
        if (facts.answeredAt === undefined || event.at < facts.answeredAt) {
          facts.answeredAt = event.at;
          changed = true;
        }
      } else if (facts.abandonedAt === undefined || event.at < facts.abandonedAt) {
        facts.abandonedAt = event.at;
        changed = true;
      }
      return changed;
    }
    case 'call.closed':
      return false;
  }
}

function compareMarks(a: GradeMark, b: GradeMark): number {
  return a.at - b.at || a.rank - b.rank || compareIds(a.id, b.id);
}

function insertMark(marks: GradeMark[], mark: GradeMark): void {
  let index = marks.length;
  while (index > 0 && compareMarks(marks[index - 1]!, mark) > 0) index--;
  marks.splice(index, 0, mark);
}

/** Fold one incident event into its incident's facts. Returns whether the facts changed. */
export function foldIncidentEvent(facts: IncidentFacts, event: IncidentEvent): boolean {
  switch (event.type) {
    case 'incident.opened':
      insertMark(facts.grades, { at: event.at, rank: 0, id: event.id, grade: event.grade });
      if (earlier(event.at, event.id, facts.openedAt, facts.openedId)) {
        facts.openedAt = event.at;
        facts.openedId = event.id;
        facts.area = event.area;
        facts.district = event.district;
      }
      return true;
    case 'incident.regraded':
      insertMark(facts.grades, { at: event.at, rank: 1, id: event.id, grade: event.grade });
      return true;
    case 'unit.arrived': {
      const arrivedAt = minOf(facts.arrivedAt, event.at);
      if (arrivedAt === facts.arrivedAt) return false;
      facts.arrivedAt = arrivedAt;
      return true;
    }
    case 'victim.updated': {
      const firstUpdateAt = minOf(facts.firstUpdateAt, event.at);
      if (firstUpdateAt === facts.firstUpdateAt) return false;
      facts.firstUpdateAt = firstUpdateAt;
      return true;
    }
    case 'unit.dispatched':
    case 'incident.closed':
      return false;
  }
}

/** The grade at instant `t`: the latest opened/regraded mark with `at <= t`. */
export function gradeAt(facts: IncidentFacts, t: number): Grade | undefined {
  const marks = facts.grades;
  for (let i = marks.length - 1; i >= 0; i--) {
    if (marks[i]!.at <= t) return marks[i]!.grade;
  }
  return undefined;
}

/** An optional time as seen at `asOf`: absent when it lies after `asOf`. */
export function seenBy(at: number | undefined, asOf: number): number | undefined {
  return at !== undefined && at <= asOf ? at : undefined;
}
