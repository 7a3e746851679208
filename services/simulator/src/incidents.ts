import { HOUR, MINUTE } from './calendar.ts';
import type { Call } from './call-handling.ts';
import type { IdMaker } from './ids.ts';
import {
  attendanceTarget,
  CALLS,
  type District,
  type LogNormal,
  REGRADES,
  RESOLVED_WITHOUT_DEPLOYMENT,
  RESPONSE,
  SCHEDULED,
  SURGE_CALL_INCIDENT_SHARE,
  VICTIM_UPDATES,
} from './model.ts';
import type { Rng } from './prng.ts';
import { SimEvent } from './sim-event.ts';

export interface IncidentSettings {
  districts: readonly District[];
  attendanceFactor: number;
  victimUpdateShare: number;
}

interface Deployment {
  unit: string;
  dispatchAt: number;
  arriveAt: number;
}

interface Response {
  deployments: Deployment[];
  closeAt: number;
}

/**
 * The CAD side: which answered calls become incidents, their grade, area and district,
 * and what happens to them — regrades, units dispatched and arriving, updates to the
 * victim when attendance is late, closure.
 */
export class IncidentDesk {
  private readonly weights: number[];
  private readonly districtJson: string[];

  constructor(
    private readonly settings: IncidentSettings,
    private readonly rng: Rng,
    private readonly ids: IdMaker,
    private readonly emit: (event: SimEvent) => void,
  ) {
    this.weights = settings.districts.map((d) => d.weight);
    this.districtJson = settings.districts.map((d) => JSON.stringify(d.name));
  }

  /** Called when a handler answers: the incident, if any, opens while the call goes on. */
  fromAnsweredCall(call: Call, answeredAt: number, talkMs: number, now: number): void {
    const { rng } = this;
    const channel = CALLS[call.channel];
    if (!rng.chance(call.surge ? SURGE_CALL_INCIDENT_SHARE : channel.incidentShare)) return;
    const grade = 1 + rng.weighted(channel.gradeMix);
    const districtIndex = rng.weighted(this.weights);
    const district = this.settings.districts[districtIndex]!;
    const area = rng.chance(district.urbanShare) ? 'urban' : 'rural';
    const openedAt = answeredAt + Math.round(talkMs * rng.uniform(0.3, 0.9));
    const incident = this.ids.incident(now);

    const opened = new SimEvent('incident.opened', `${incident}-o`, openedAt);
    opened.incident = incident;
    opened.grade = grade;
    opened.area = area;
    opened.call = call.id;
    opened.districtJson = this.districtJson[districtIndex]!;
    this.emit(opened);

    this.develop(incident, grade, area, district, openedAt, call.load);
  }

  private develop(
    incident: string,
    openingGrade: number,
    area: 'urban' | 'rural',
    district: District,
    openedAt: number,
    load: number,
  ): void {
    const { rng } = this;
    let grade = openingGrade;
    let response = this.respond(grade, area, district, openedAt, load);

    // At most one regrade an incident; for a G2 the upgrade is tried before the downgrade.
    const rule = REGRADES.find((r) => r.from === grade && rng.chance(r.share));
    if (rule !== undefined) {
      const regradedAt =
        openedAt + Math.round(rng.uniform(rule.afterMin[0], rule.afterMin[1]) * MINUTE);
      const first = response.deployments[0];
      // A regrade after the unit has arrived would change nothing that is measured.
      if (
        first === undefined ? regradedAt < response.closeAt : regradedAt < firstArrival(response)
      ) {
        const regraded = new SimEvent('incident.regraded', `${incident}-g1`, regradedAt);
        regraded.incident = incident;
        regraded.grade = rule.to;
        this.emit(regraded);
        grade = rule.to;
        if (first === undefined || first.dispatchAt > regradedAt) {
          response = this.respond(grade, area, district, regradedAt, load);
        } else if (grade === 1) {
          // Upgraded with a unit already on its way: it goes on blue lights from now.
          for (const d of response.deployments) {
            const from = Math.max(d.dispatchAt, regradedAt);
            d.arriveAt = Math.min(d.arriveAt, from + this.travel(1, area));
          }
          response.closeAt = Math.max(response.closeAt, lastArrival(response));
        }
      }
    }

    response.deployments.forEach((d, i) => {
      const dispatched = new SimEvent('unit.dispatched', `${incident}-d${i + 1}`, d.dispatchAt);
      dispatched.incident = incident;
      dispatched.unit = d.unit;
      this.emit(dispatched);
      const arrived = new SimEvent('unit.arrived', `${incident}-r${i + 1}`, d.arriveAt);
      arrived.incident = incident;
      arrived.unit = d.unit;
      this.emit(arrived);
    });

    const target = attendanceTarget(grade, area);
    const arrival =
      response.deployments.length > 0 ? firstArrival(response) : Number.POSITIVE_INFINITY;
    if (
      target !== null &&
      arrival > openedAt + target &&
      rng.chance(this.settings.victimUpdateShare)
    ) {
      const updatedAt = this.victimUpdateTime(openedAt, openedAt + target);
      if (updatedAt < arrival) {
        const updated = new SimEvent('victim.updated', `${incident}-u1`, updatedAt);
        updated.incident = incident;
        this.emit(updated);
      }
    }

    const closed = new SimEvent('incident.closed', `${incident}-z`, response.closeAt);
    closed.incident = incident;
    this.emit(closed);
  }

  private victimUpdateTime(openedAt: number, deadline: number): number {
    const { rng } = this;
    const { timing, grace } = VICTIM_UPDATES;
    const x = rng.next();
    if (x < timing.beforeDeadline) {
      // A proactive call ("we're running late") shortly before the deadline.
      return Math.max(openedAt + MINUTE, deadline - Math.round(rng.uniform(0, 10) * MINUTE));
    }
    if (x < timing.beforeDeadline + timing.withinGrace) {
      return deadline + Math.round(rng.uniform(0, grace));
    }
    return deadline + grace + Math.round(rng.uniform(1, 45) * MINUTE);
  }

  private duration(d: LogNormal): number {
    return Math.max(1000, Math.round(this.rng.logNormal(d.median, d.sigma) * 1000));
  }

  private travel(grade: 1 | 2, area: 'urban' | 'rural'): number {
    const r = RESPONSE[grade];
    return this.duration(area === 'urban' ? r.travelUrbanS : r.travelRuralS);
  }

  private unitFor(district: District, not?: string): string {
    for (;;) {
      const unit = `${district.code}${this.rng.int(10, 59)}`;
      if (unit !== not) return unit;
    }
  }

  /** What the force does for an incident of this grade from time `from`. */
  private respond(
    grade: number,
    area: 'urban' | 'rural',
    district: District,
    from: number,
    load: number,
  ): Response {
    const { rng } = this;
    if (grade === 1 || grade === 2) {
      const r = RESPONSE[grade];
      // A stretched force (demand over plan, or short of units) dispatches later.
      const stretch = this.settings.attendanceFactor * Math.min(3, Math.max(1, load));
      let dispatchAt = from + Math.round(this.duration(r.dispatchS) * stretch);
      if (rng.chance(Math.min(0.5, r.noUnitShare * stretch))) {
        dispatchAt += Math.round(rng.uniform(r.noUnitMin[0], r.noUnitMin[1]) * MINUTE);
      }
      const unit = this.unitFor(district);
      const deployments: Deployment[] = [
        { unit, dispatchAt, arriveAt: dispatchAt + this.travel(grade, area) },
      ];
      if (rng.chance(r.secondUnitShare)) {
        const second = dispatchAt + Math.round(rng.uniform(0, 180_000));
        deployments.push({
          unit: this.unitFor(district, unit),
          dispatchAt: second,
          arriveAt: second + this.travel(grade, area),
        });
      }
      const response = { deployments, closeAt: 0 };
      response.closeAt = lastArrival(response) + this.duration(r.onSceneS);
      return response;
    }
    if (grade === 3) {
      if (!rng.chance(SCHEDULED.attendedShare)) {
        const [min, max] = SCHEDULED.closedWithoutVisitH;
        return { deployments: [], closeAt: from + Math.round(rng.uniform(min, max) * HOUR) };
      }
      const [min, max] = SCHEDULED.appointmentH;
      const slot = 15 * MINUTE;
      const appointment = Math.ceil((from + rng.uniform(min, max) * HOUR) / slot) * slot;
      const dispatchAt = appointment - Math.round(rng.uniform(10, 30) * MINUTE);
      const arriveAt = dispatchAt + this.duration(SCHEDULED.travelS);
      return {
        deployments: [{ unit: this.unitFor(district), dispatchAt, arriveAt }],
        closeAt: arriveAt + this.duration(SCHEDULED.onSceneS),
      };
    }
    const rwd = RESOLVED_WITHOUT_DEPLOYMENT;
    if (!rng.chance(rwd.attendedShare)) {
      return { deployments: [], closeAt: from + this.duration(rwd.closedAfterS) };
    }
    const dispatchAt =
      from + Math.round(rng.uniform(rwd.visitAfterH[0], rwd.visitAfterH[1]) * HOUR);
    const arriveAt = dispatchAt + this.duration(SCHEDULED.travelS);
    return {
      deployments: [{ unit: this.unitFor(district), dispatchAt, arriveAt }],
      closeAt: arriveAt + this.duration(SCHEDULED.onSceneS),
    };
  }
}

function firstArrival(r: Response): number {
  let first = Number.POSITIVE_INFINITY;
  for (const d of r.deployments) first = Math.min(first, d.arriveAt);
  return first;
}

function lastArrival(r: Response): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const d of r.deployments) last = Math.max(last, d.arriveAt);
  return last;
}
