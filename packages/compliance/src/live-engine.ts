import type { Area, CallmonEvent, Channel, Grade } from '@callmon/events';
import { DeadlineTimers } from './deadline-timers.ts';
import { type Admission, ForceDeduper } from './dedupe.ts';
import { FactBook } from './fact-book.ts';
import type { CallFacts, IncidentFacts } from './facts.ts';
import type { Policy } from './policy.ts';
import { type LiveSnapshot, LONGEST_WINDOW_MS, snapshotOf } from './reports.ts';
import { assessCall, assessIncident } from './rules.ts';

/**
 * The live engine of one force (metrics.md §2–§4, §8). It takes accepted events in any
 * arrival order, keeps the facts of every call and incident of the last 7 days, and is
 * driven through time by `advanceTo(T)` (a clock in the service, stepped time in tests
 * and replays). Alerts are the transitions of each item's classification as of the
 * engine's time, so a breach fires at the first instant the same rules the batch
 * evaluator uses call the item breached — `presented_at + S + 1 ms` for an unanswered
 * call, `deadline + 1 ms` for attendance, `due + 1 ms` for a victim update — and a
 * snapshot at any moment equals a batch evaluation as of that moment.
 */

export type LiveRule = 'call.unanswered' | 'attendance' | 'victim_update';
/** An item's standing under one rule: `idle` not yet due for it, `done` settled. */
export type LiveStatus = 'idle' | 'pending' | 'breached' | 'done';

export interface BreachAlert {
  kind: 'breach';
  rule: LiveRule;
  force: string;
  /** The call or incident id. */
  item: string;
  /** When the item became breached (engine time). */
  at: number;
  /** The deadline it missed: `presented_at + S`, the attendance deadline, or the update `due`. */
  deadline: number;
  policy: string;
  channel?: Channel;
  grade?: Grade;
  area?: Area;
}

export interface ClearedAlert {
  kind: 'cleared';
  rule: LiveRule;
  force: string;
  item: string;
  at: number;
  /** Whether the item had been breached under this rule. */
  wasBreached: boolean;
  /** Its standing now: `done` when resolved, `pending`/`idle` when a regrade moved its deadline. */
  status: LiveStatus;
}

export type LiveAlert = BreachAlert | ClearedAlert;

export type ApplyOutcome = Admission | 'other_force' | 'beyond_horizon';

export interface LiveEngineOptions {
  force: string;
  policy: Policy;
  /** How late an event may arrive and still be applied, beyond the 7-day window. Default 1 h. */
  latenessMs?: number;
  /** Engine time to start from (default: −∞, i.e. the first `advanceTo`). */
  startAt?: number;
  onAlert?: (alert: LiveAlert) => void;
  /**
   * The caller hands over first copies only, de-duplicated against the store (the ingest
   * pipeline and a restore from the store do): a repeated id is then a duplicate without
   * a content check, and the engine keeps event ids, not events. Default false.
   */
  firstCopiesOnly?: boolean;
}

interface LiveCall extends CallFacts {
  status: LiveStatus;
  wakeAt: number;
  lastAt: number;
}

interface LiveIncident extends IncidentFacts {
  attendanceStatus: LiveStatus;
  victimStatus: LiveStatus;
  wakeAt: number;
  lastAt: number;
}

type LiveItem = LiveCall | LiveIncident;

export interface RingingCall {
  call: string;
  channel: Channel;
  presentedAt: number;
  deadline: number;
  status: 'pending' | 'breached';
}

export interface OutstandingIncident {
  incident: string;
  grade: Grade;
  area: Area;
  district: string | undefined;
  openedAt: number;
  deadline: number;
  status: 'pending' | 'breached';
}

export interface UpdateOwed {
  incident: string;
  grade: Grade;
  area: Area;
  deadline: number;
  due: number;
  status: 'pending' | 'breached';
}

export interface EngineStats {
  calls: number;
  incidents: number;
  eventIds: number;
  timers: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  beyondHorizon: number;
  otherForce: number;
}

const HOUR_MS = 3_600_000;
const EVICT_EVERY_MS = 10 * 60_000;

function isCall(item: LiveItem): item is LiveCall {
  return 'call' in item;
}

function earliestAfter(instant: number, current: number | undefined, at: number | undefined) {
  return at !== undefined && at > instant && (current === undefined || at < current) ? at : current;
}

/** The earliest instant after `instant` at which one of the item's facts becomes visible. */
function nextFactAfter(item: LiveItem, instant: number): number | undefined {
  let next: number | undefined;
  if (isCall(item)) {
    next = earliestAfter(instant, next, item.presentedAt);
    next = earliestAfter(instant, next, item.answeredAt);
    next = earliestAfter(instant, next, item.abandonedAt);
    return next;
  }
  next = earliestAfter(instant, next, item.openedAt);
  next = earliestAfter(instant, next, item.arrivedAt);
  next = earliestAfter(instant, next, item.firstUpdateAt);
  for (const mark of item.grades) next = earliestAfter(instant, next, mark.at);
  return next;
}

export class LiveEngine {
  readonly force: string;
  readonly policy: Policy;
  private readonly latenessMs: number;
  private readonly onAlert: ((alert: LiveAlert) => void) | undefined;
  private readonly deduper: ForceDeduper;
  private readonly book = new FactBook<LiveCall, LiveIncident>(
    (call) => this.track({ call, status: 'idle', wakeAt: Number.NaN, lastAt: this.applyingAt }),
    (incident) =>
      this.track({
        incident,
        grades: [],
        attendanceStatus: 'idle',
        victimStatus: 'idle',
        wakeAt: Number.NaN,
        lastAt: this.applyingAt,
      }),
  );
  /** The `at` of the event being applied, for items the fact book creates for it. */
  private applyingAt = Number.NEGATIVE_INFINITY;
  /** Items by the hour of their first event, so eviction visits only expired hours. */
  private readonly itemsByHour = new Map<number, LiveItem[]>();
  private readonly timers = new DeadlineTimers<LiveItem>();
  /** Event ids by the hour of their `at`, so ids leave the deduper with their hour. */
  private readonly idsByHour = new Map<number, string[]>();
  private clock: number;
  private evictedUpTo = Number.NEGATIVE_INFINITY;
  private readonly counts = {
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    beyondHorizon: 0,
    otherForce: 0,
  };

  constructor(options: LiveEngineOptions) {
    this.force = options.force;
    this.policy = options.policy;
    this.latenessMs = options.latenessMs ?? HOUR_MS;
    this.onAlert = options.onAlert;
    this.deduper = new ForceDeduper({ firstCopiesOnly: options.firstCopiesOnly === true });
    this.clock = options.startAt ?? Number.NEGATIVE_INFINITY;
  }

  /** The engine's current time (UTC ms). */
  get now(): number {
    return this.clock;
  }

  /** Events dated before this instant are too late for any live window and are not applied. */
  get horizon(): number {
    return this.clock - LONGEST_WINDOW_MS - this.latenessMs;
  }

  /** Apply one parsed event at the current engine time. */
  apply(event: CallmonEvent): ApplyOutcome {
    if (event.force !== this.force) {
      this.counts.otherForce++;
      return 'other_force';
    }
    if (event.at < this.horizon) {
      this.counts.beyondHorizon++;
      return 'beyond_horizon';
    }
    const admission = this.deduper.admit(event);
    if (admission !== 'accepted') {
      if (admission === 'duplicate') this.counts.duplicates++;
      else this.counts.conflicts++;
      return admission;
    }
    this.counts.accepted++;
    const hour = Math.floor(event.at / HOUR_MS);
    this.bucket(this.idsByHour, hour).push(event.id);

    this.applyingAt = event.at;
    const item: LiveItem = this.book.itemFor(event);
    if (event.at > item.lastAt) item.lastAt = event.at;
    if (this.book.fold(item, event)) this.reassess(item);
    return 'accepted';
  }

  /** Move engine time forward to `t`, firing every transition due on the way, in order. */
  advanceTo(t: number): void {
    if (!(t >= this.clock)) return;
    while (this.timers.peek() <= t) {
      const { instant, item } = this.timers.pop();
      if (item.wakeAt !== instant) continue;
      item.wakeAt = Number.NaN;
      this.clock = instant;
      this.reassess(item);
    }
    this.clock = t;
    if (t - this.evictedUpTo >= EVICT_EVERY_MS) this.evict();
  }

  /** §8 as of the engine's time. */
  snapshot(): LiveSnapshot {
    return snapshotOf(this.book, this.force, this.clock, this.policy);
  }

  /** Calls ringing now, oldest first. */
  ringingCalls(): RingingCall[] {
    const ringing: RingingCall[] = [];
    for (const call of this.book.calls.values()) {
      if (call.status !== 'pending' && call.status !== 'breached') continue;
      const assessment = assessCall(call, this.policy, this.clock);
      ringing.push({
        call: call.call,
        channel: assessment.channel,
        presentedAt: call.presentedAt!,
        deadline: assessment.deadline,
        status: call.status,
      });
    }
    return ringing.sort((a, b) => a.presentedAt - b.presentedAt);
  }

  /** Incidents with a target not yet attended, soonest deadline first. */
  outstandingIncidents(): OutstandingIncident[] {
    const outstanding: OutstandingIncident[] = [];
    for (const incident of this.book.incidents.values()) {
      const status = incident.attendanceStatus;
      if (status !== 'pending' && status !== 'breached') continue;
      const assessment = assessIncident(incident, this.policy, this.clock);
      outstanding.push({
        incident: incident.incident,
        grade: assessment.grade,
        area: assessment.area,
        district: incident.district,
        openedAt: incident.openedAt!,
        deadline: assessment.target!.deadline,
        status,
      });
    }
    return outstanding.sort((a, b) => a.deadline - b.deadline);
  }

  /** Delayed incidents whose caller is owed an update, soonest due first. */
  updatesOwed(): UpdateOwed[] {
    const owed: UpdateOwed[] = [];
    for (const incident of this.book.incidents.values()) {
      const status = incident.victimStatus;
      if (status !== 'pending' && status !== 'breached') continue;
      const assessment = assessIncident(incident, this.policy, this.clock);
      owed.push({
        incident: incident.incident,
        grade: assessment.grade,
        area: assessment.area,
        deadline: assessment.target!.deadline,
        due: assessment.target!.due,
        status,
      });
    }
    return owed.sort((a, b) => a.due - b.due);
  }

  stats(): EngineStats {
    return {
      calls: this.book.calls.size,
      incidents: this.book.incidents.size,
      eventIds: this.deduper.size,
      timers: this.timers.size,
      ...this.counts,
    };
  }

  private wake(item: LiveItem, instant: number): void {
    if (!(instant > this.clock)) return;
    if (item.wakeAt <= instant) return;
    item.wakeAt = instant;
    this.timers.schedule(instant, item);
  }

  private reassess(item: LiveItem): void {
    if (isCall(item)) this.reassessCall(item);
    else this.reassessIncident(item);
    // Facts dated after engine time change nothing as of now; look again when they are.
    const next = nextFactAfter(item, this.clock);
    if (next !== undefined) this.wake(item, next);
  }

  private reassessCall(call: LiveCall): void {
    const asOf = this.clock;
    if (call.presentedAt === undefined || call.presentedAt > asOf) {
      if (call.presentedAt !== undefined) this.wake(call, call.presentedAt);
      return;
    }
    const assessment = assessCall(call, this.policy, asOf);
    const status: LiveStatus =
      assessment.outcome !== 'unresolved'
        ? 'done'
        : assessment.class === 'breached'
          ? 'breached'
          : 'pending';
    if (status === 'pending') this.wake(call, assessment.deadline + 1);
    if (status === call.status) return;
    const previous = call.status;
    call.status = status;
    if (status === 'breached') {
      this.emit({
        kind: 'breach',
        rule: 'call.unanswered',
        force: this.force,
        item: call.call,
        at: asOf,
        deadline: assessment.deadline,
        policy: assessment.version.id,
        channel: assessment.channel,
      });
    } else if (previous === 'pending' || previous === 'breached') {
      this.cleared('call.unanswered', call.call, previous, status);
    }
  }

  private reassessIncident(incident: LiveIncident): void {
    const asOf = this.clock;
    if (incident.openedAt === undefined || incident.openedAt > asOf) {
      if (incident.openedAt !== undefined) this.wake(incident, incident.openedAt);
      return;
    }
    const assessment = assessIncident(incident, this.policy, asOf);
    const target = assessment.target;
    let attendance: LiveStatus = 'done';
    let victim: LiveStatus = 'done';
    if (target !== undefined) {
      // Not attended yet: pending or breached (`within` needs an arrival).
      if (assessment.attendMs === undefined)
        attendance = target.attendance as 'pending' | 'breached';
      switch (target.victimUpdate) {
        case 'not_counted':
          victim = 'idle';
          break;
        case 'pending':
        case 'breached':
          victim = target.victimUpdate;
          break;
        default:
          victim = 'done';
      }
      if (attendance === 'pending') this.wake(incident, target.deadline + 1);
      if (victim === 'idle' && assessment.attendMs === undefined)
        this.wake(incident, target.deadline + 1);
      if (victim === 'pending') this.wake(incident, target.due + 1);
    }

    const previousAttendance = incident.attendanceStatus;
    if (attendance !== previousAttendance) {
      incident.attendanceStatus = attendance;
      if (attendance === 'breached') {
        this.emit({
          kind: 'breach',
          rule: 'attendance',
          force: this.force,
          item: incident.incident,
          at: asOf,
          deadline: target!.deadline,
          policy: assessment.version.id,
          grade: assessment.grade,
          area: assessment.area,
        });
      } else if (previousAttendance === 'pending' || previousAttendance === 'breached') {
        this.cleared('attendance', incident.incident, previousAttendance, attendance);
      }
    }
    const previousVictim = incident.victimStatus;
    if (victim !== previousVictim) {
      incident.victimStatus = victim;
      if (victim === 'breached') {
        this.emit({
          kind: 'breach',
          rule: 'victim_update',
          force: this.force,
          item: incident.incident,
          at: asOf,
          deadline: target!.due,
          policy: assessment.version.id,
          grade: assessment.grade,
          area: assessment.area,
        });
      } else if (previousVictim === 'pending' || previousVictim === 'breached') {
        this.cleared('victim_update', incident.incident, previousVictim, victim);
      }
    }
  }

  private cleared(rule: LiveRule, item: string, previous: LiveStatus, status: LiveStatus): void {
    this.emit({
      kind: 'cleared',
      rule,
      force: this.force,
      item,
      at: this.clock,
      wasBreached: previous === 'breached',
      status,
    });
  }

  private emit(alert: LiveAlert): void {
    this.onAlert?.(alert);
  }

  private track<Item extends LiveItem>(item: Item): Item {
    this.bucket(this.itemsByHour, Math.floor(item.lastAt / HOUR_MS)).push(item);
    return item;
  }

  private bucket<T>(buckets: Map<number, T[]>, hour: number): T[] {
    let entries = buckets.get(hour);
    if (entries === undefined) {
      entries = [];
      buckets.set(hour, entries);
    }
    return entries;
  }

  /**
   * Drop what no live window can use any more: items whose anchor (`presented_at` /
   * `opened_at`, or lacking one, their latest event) is older than the horizon, and the
   * event ids of hours before it. Only expired hour buckets are visited; an item whose
   * anchor is still inside the horizon moves to its anchor's bucket.
   */
  private evict(): void {
    const horizon = this.horizon;
    const horizonHour = Math.floor(horizon / HOUR_MS);
    this.evictedUpTo = this.clock;
    for (const [hour, items] of this.itemsByHour) {
      if (hour >= horizonHour) continue;
      this.itemsByHour.delete(hour);
      for (const item of items) {
        if (isCall(item)) {
          if (this.book.calls.get(item.call) !== item) continue;
          const anchor = item.presentedAt ?? item.lastAt;
          if (anchor < horizon) this.book.calls.delete(item.call);
          else this.bucket(this.itemsByHour, Math.floor(anchor / HOUR_MS)).push(item);
        } else {
          if (this.book.incidents.get(item.incident) !== item) continue;
          const anchor = item.openedAt ?? item.lastAt;
          if (anchor < horizon) this.book.incidents.delete(item.incident);
          else this.bucket(this.itemsByHour, Math.floor(anchor / HOUR_MS)).push(item);
        }
      }
    }
    for (const [hour, ids] of this.idsByHour) {
      if (hour >= horizonHour) continue;
      for (const id of ids) this.deduper.forget(id);
      this.idsByHour.delete(hour);
    }
  }
}
