import { eventSchemas, parseEventTime } from '@callmon/events';
import { checkTimeZone, DAY, HOUR, localHourOf } from './calendar.ts';
import { Call, CallHandling, type CallSink, POOLINGS, type Pooling } from './call-handling.ts';
import { DemandTimeline } from './demand.ts';
import { FaultInjector } from './faults.ts';
import { IdMaker, idPrefix } from './ids.ts';
import { IncidentDesk } from './incidents.ts';
import {
  CALLS,
  DEFAULT_CALLS_101_PER_YEAR,
  DEFAULT_CALLS_999_PER_YEAR,
  DEFAULT_DISTRICTS,
  type District,
  logNormalMean,
  MINIMUM_HANDLERS_101,
  MINIMUM_HANDLERS_999,
  PLAN_101,
  PLAN_999,
} from './model.ts';
import { Rng } from './prng.ts';
import {
  isScenarioName,
  SCENARIO_DEFINITIONS,
  SCENARIOS,
  type Scenario,
  type ScenarioName,
} from './scenarios.ts';
import { type LineFault, SimEvent, WireFormat } from './sim-event.ts';
import { buildRota, type RotaHour, rotaAt } from './staffing.ts';
import { TimeQueue } from './time-queue.ts';

export interface SimulateOptions {
  /** PRNG seed, an integer 0–4294967295. Default 1. */
  seed?: number;
  /** Default `normal`. */
  scenario?: ScenarioName;
  /** First instant of the simulated period, RFC 3339. Default: the scenario's start. */
  start?: string;
  /** Length of the period in days; fractions allowed; `Infinity` for an endless stream. Default 1. */
  days?: number;
  /** Force code. Default `northants`. */
  force?: string;
  /** 999 calls a year (the volume parameter). Default 135,000: a mid-sized force. */
  calls999PerYear?: number;
  /** 101 calls a year. Default 200,000. */
  calls101PerYear?: number;
  /** Handlers on the floor over handlers planned; overrides the scenario's. */
  staffingFactor?: number;
  /** How handlers are pooled between 999 and 101. Default `overflow`. */
  pooling?: Pooling;
  /** Time zone of the force's demand pattern and rota. Default `Europe/London`. */
  timeZone?: string;
  districts?: readonly District[];
}

/** One output line and the instant it should reach the monitor. */
export interface SimulatedLine {
  /** One event as JSON, no newline (or, under data-faults, a deliberately broken line). */
  line: string;
  /** UTC ms: the event's `at`, unless a data fault delays it. */
  deliverAt: number;
  /** Present on lines a data fault produced or delayed. */
  fault?: LineFault;
}

/** Options that cannot be simulated: the message says which and why. */
export class SimulatorOptionError extends Error {
  override name = 'SimulatorOptionError';
}

export interface ResolvedOptions {
  seed: number;
  scenario: Scenario;
  start: number;
  end: number;
  force: string;
  calls999PerYear: number;
  calls101PerYear: number;
  staffingFactor: number;
  pooling: Pooling;
  timeZone: string;
  districts: readonly District[];
}

function fail(message: string): never {
  throw new SimulatorOptionError(message);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Check and complete the options; throws SimulatorOptionError with a clear message. */
export function resolveOptions(options: SimulateOptions = {}): ResolvedOptions {
  const scenarioName = options.scenario ?? 'normal';
  if (!isScenarioName(scenarioName)) {
    fail(
      `unknown scenario ${JSON.stringify(scenarioName)}; valid scenarios: ${SCENARIOS.join(', ')}`,
    );
  }
  const scenario = SCENARIO_DEFINITIONS[scenarioName];

  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    fail(`seed must be an integer from 0 to 4294967295, got ${String(seed)}`);
  }

  const startText = options.start ?? scenario.defaultStart;
  const parsed = parseEventTime(startText);
  if (!parsed.ok) fail(`start ${JSON.stringify(startText)} is not a valid time: ${parsed.detail}`);

  const days = options.days ?? 1;
  if (typeof days !== 'number' || Number.isNaN(days) || days <= 0) {
    fail(`days must be a positive number, got ${String(days)}`);
  }

  const force = options.force ?? 'northants';
  const forceCheck = eventSchemas['call.presented'].shape.force.safeParse(force);
  if (!forceCheck.success) {
    fail(
      `force ${JSON.stringify(force)} is not a force code (2–32 of a-z, 0-9 and -, not starting with -)`,
    );
  }

  const pooling = options.pooling ?? 'overflow';
  if (!POOLINGS.includes(pooling)) {
    fail(`pooling must be one of ${POOLINGS.join(', ')}, got ${JSON.stringify(pooling)}`);
  }

  const timeZone = options.timeZone ?? 'Europe/London';
  try {
    checkTimeZone(timeZone);
  } catch {
    fail(`unknown time zone ${JSON.stringify(timeZone)}`);
  }

  const districts = options.districts ?? DEFAULT_DISTRICTS;
  if (districts.length === 0) fail('at least one district is needed');
  for (const d of districts) {
    if (!/^[A-Z0-9]{1,8}$/.test(d.code))
      fail(`district code ${JSON.stringify(d.code)} must be 1–8 of A-Z, 0-9`);
    if (d.name.length < 1 || d.name.length > 128) fail('a district name must be 1–128 characters');
    if (!(d.weight >= 0) || !(d.urbanShare >= 0 && d.urbanShare <= 1)) {
      fail(`district ${d.name}: weight must be ≥ 0 and urbanShare within 0–1`);
    }
  }

  return {
    seed,
    scenario,
    start: parsed.ms,
    end: parsed.ms + days * DAY,
    force,
    calls999PerYear: positive(
      'calls999PerYear',
      options.calls999PerYear,
      DEFAULT_CALLS_999_PER_YEAR,
    ),
    calls101PerYear: positive(
      'calls101PerYear',
      options.calls101PerYear,
      DEFAULT_CALLS_101_PER_YEAR,
    ),
    staffingFactor: positive('staffingFactor', options.staffingFactor, scenario.staffingFactor),
    pooling,
    timeZone,
    districts,
  };
}

/** The hourly staffing rota the simulation will use for these options. */
export function rotaFor(options: ResolvedOptions): RotaHour[] {
  return buildRota(options, {
    meanHandling999S: logNormalMean(CALLS['999'].talkS) + logNormalMean(CALLS['999'].wrapS),
    meanHandling101S: logNormalMean(CALLS['101'].talkS) + logNormalMean(CALLS['101'].wrapS),
    plan999: PLAN_999,
    plan101: PLAN_101,
    staffingFactor: options.staffingFactor,
    minimum999: MINIMUM_HANDLERS_999,
    minimum101: MINIMUM_HANDLERS_101,
  });
}

/** Independent random streams, so that one part of the model never shifts another. */
const STREAM = { demand: 1, calls: 2, incidents: 3, faults: 4 } as const;

/**
 * Simulate a force's control room: 999 and 101 calls, their queueing and handling, the
 * incidents they open and the force's response, as event-contract lines in delivery
 * order. Lazy: lines are produced as the simulation clock advances, so an endless or
 * year-long run streams in bounded memory. Same options → byte-identical lines.
 */
export function simulate(options: SimulateOptions = {}): Iterable<SimulatedLine> {
  const resolved = resolveOptions(options);
  return { [Symbol.iterator]: () => run(resolved) };
}

function* run(o: ResolvedOptions): Generator<SimulatedLine> {
  const localHour = localHourOf(o.timeZone);
  const rota = rotaFor(o);
  const ids = new IdMaker(idPrefix(o.force));
  const wire = new WireFormat(o.force);
  const lineOf = (e: SimEvent) => wire.line(e);

  // Events wait here until the simulation clock passes their delivery time: everything
  // produced later is dated at or after the clock, so what leaves is in order.
  // Equal delivery times leave in the order they were added.
  const outbox = new TimeQueue<SimEvent>();
  const add = (e: SimEvent) => outbox.push(e.deliverAt, e);
  const faults =
    o.scenario.faults && new FaultInjector(o.scenario.faults, new Rng(o.seed, STREAM.faults));
  const emit = faults
    ? (e: SimEvent) => {
        faults.apply(e, add, lineOf);
        add(e);
      }
    : add;

  const incidents = new IncidentDesk(
    {
      districts: o.districts,
      attendanceFactor: o.scenario.attendanceFactor,
      victimUpdateShare: o.scenario.victimUpdateShare,
    },
    new Rng(o.seed, STREAM.incidents),
    ids,
    emit,
  );

  const sink: CallSink = {
    presented(call) {
      const e = new SimEvent('call.presented', `${call.id}-p`, call.presentedAt);
      e.call = call.id;
      e.channel = call.channel;
      e.queue = call.channel === '999' ? 'emergency' : 'non-emergency';
      emit(e);
    },
    answered(call, answeredAt, handler, talkMs, now) {
      const answered = new SimEvent('call.answered', `${call.id}-a`, answeredAt);
      answered.call = call.id;
      answered.handler = handler;
      emit(answered);
      incidents.fromAnsweredCall(call, answeredAt, talkMs, now);
      const closed = new SimEvent('call.closed', `${call.id}-c`, answeredAt + talkMs);
      closed.call = call.id;
      emit(closed);
    },
    abandoned(call, abandonedAt) {
      const e = new SimEvent('call.abandoned', `${call.id}-x`, abandonedAt);
      e.call = call.id;
      emit(e);
    },
  };
  const handling = new CallHandling(o.pooling, rota, new Rng(o.seed, STREAM.calls), sink);

  const demandRng = new Rng(o.seed, STREAM.demand);
  const demand = new DemandTimeline(
    {
      calls999PerYear: o.calls999PerYear,
      calls101PerYear: o.calls101PerYear,
      weekendNightSurge999: o.scenario.weekendNightSurge999,
      weekendNightSurge101: o.scenario.weekendNightSurge101,
      fridayMajorIncident: o.scenario.fridayMajorIncident,
      surgesPerDay: o.scenario.surgesPerDay,
    },
    demandRng,
    localHour,
    o.start,
  );

  // Arrivals: one Poisson process at the combined rate, constant within a segment (it is
  // memoryless, so restarting the draw at each segment boundary is exact); each arrival
  // is then a 999 or a 101 call in proportion to the two rates.
  let segment = demand.next();
  while (segment.end <= o.start) segment = demand.next();
  const nextArrival = (from: number): number => {
    let t = from;
    for (;;) {
      const rate = segment.rate999 + segment.rate101;
      if (rate > 0) {
        const arrival = t + Math.round(demandRng.exponential(1 / rate));
        if (arrival < segment.end) return arrival;
      }
      t = segment.end;
      segment = demand.next();
    }
  };

  let arrivalAt = nextArrival(o.start);
  let hourAt = Math.floor(o.start / HOUR) * HOUR;

  for (;;) {
    const handlingAt = handling.nextTime();
    const arrivalsOpen = arrivalAt < o.end;
    if (!arrivalsOpen && handling.isQuiet()) break;
    const t = Math.min(handlingAt, hourAt, arrivalsOpen ? arrivalAt : Number.POSITIVE_INFINITY);

    while (outbox.peekTime() <= t) yield toLine(outbox.pop()!, lineOf);

    if (t === hourAt) {
      handling.staff(t, rotaAt(rota, localHour(t)));
      hourAt += HOUR;
    } else if (t === handlingAt) {
      handling.step();
    } else {
      const channel =
        demandRng.next() * (segment.rate999 + segment.rate101) < segment.rate999 ? '999' : '101';
      const surge = channel === '999' && demandRng.next() < segment.surgeShare999;
      const giveUpAt = t + Math.round(handling.patience(channel) * 1000);
      handling.present(new Call(ids.call(t), channel, t, giveUpAt, surge, segment.load));
      arrivalAt = nextArrival(t);
    }
  }
  for (let top = outbox.pop(); top !== undefined; top = outbox.pop()) yield toLine(top, lineOf);
}

function toLine(e: SimEvent, lineOf: (e: SimEvent) => string): SimulatedLine {
  const line = lineOf(e);
  return e.fault === null
    ? { line, deliverAt: e.deliverAt }
    : { line, deliverAt: e.deliverAt, fault: e.fault };
}
