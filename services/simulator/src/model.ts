/**
 * Every number of the simulation model in one place, with where it comes from. "domain"
 * = docs/domain.md and notes/domain-research.md; "assumption" = a plausible value chosen
 * for the simulator, not a published figure. The README tabulates them.
 */

/** A log-normal duration: median and shape σ (mean = median × e^(σ²/2)). */
export interface LogNormal {
  median: number;
  sigma: number;
}

export function logNormalMean(d: LogNormal): number {
  return d.median * Math.exp((d.sigma * d.sigma) / 2);
}

export interface ChannelModel {
  /** From a free handler's first ring to "Police, what's the emergency?", seconds. */
  pickupFloorS: number;
  pickupS: LogNormal;
  /** Talk time, seconds; `call.closed` comes at answer + talk. */
  talkS: LogNormal;
  /** After-call work before the handler can take the next call, seconds. */
  wrapS: LogNormal;
  /** Callers who hang up almost at once (misdials, changed minds), share and range, s. */
  quickHangUpShare: number;
  quickHangUpS: [number, number];
  /** Everyone else's patience in the queue, seconds. */
  patienceS: LogNormal;
  /** Share of answered calls that become an incident. */
  incidentShare: number;
  /** Grade mix (G1..G4) of the incidents this channel's calls open. */
  gradeMix: [number, number, number, number];
}

export const CALLS: Record<'999' | '101', ChannelModel> = {
  '999': {
    // assumption: a handler picks up in 3–6 s; domain: West Yorkshire's mean 999 queue
    // time of 3.7–4.8 s, Hampshire's 4 s average force-side wait.
    pickupFloorS: 1.5,
    pickupS: { median: 2.2, sigma: 0.5 },
    // assumption: a 999 call takes 4–5 minutes including the risk assessment (THRIVE),
    // then a minute of CAD work: about 6 minutes a call in all.
    talkS: { median: 240, sigma: 0.6 },
    wrapS: { median: 60, sigma: 0.5 },
    // domain: 999 abandonment in the force queue around 1–1.6 % (NPCC 2018, Northants
    // 2012). 999 callers are patient: half would wait five minutes.
    quickHangUpShare: 0.012,
    quickHangUpS: [1, 8],
    patienceS: { median: 300, sigma: 0.8 },
    // domain: only a minority of 999 calls are emergencies (Essex: about 20 %); many are
    // advice, other agencies' business or repeat calls about the same event.
    incidentShare: 0.62,
    gradeMix: [0.26, 0.45, 0.19, 0.1],
  },
  '101': {
    pickupFloorS: 2,
    pickupS: { median: 3, sigma: 0.5 },
    talkS: { median: 300, sigma: 0.6 },
    wrapS: { median: 90, sigma: 0.5 },
    // domain: 101 abandonment 7.5 % (comparable forces 2014) to 13–20 % (Northants 2012,
    // Welsh forces 2017); 101 callers give up much sooner relative to their waits.
    quickHangUpShare: 0.03,
    quickHangUpS: [2, 20],
    patienceS: { median: 150, sigma: 0.9 },
    incidentShare: 0.33,
    gradeMix: [0.01, 0.22, 0.44, 0.33],
  },
};

/** Repeat calls in a burst (many people reporting one crash) rarely open a new incident. */
export const SURGE_CALL_INCIDENT_SHARE = 0.1;

/**
 * The rota is planned (Erlang C, no abandonment) so that at planned demand 70 % of 999
 * calls would wait at most 5 s in the queue (plus pick-up ≈ 4 s: inside 10 s) on the
 * 999 handlers alone, and 40 % of 101 calls at most 60 s. Free 101 handlers also take
 * waiting 999 calls (`overflow` pooling), which lifts a normal week to about 92 % of 999
 * calls within 10 s: near the national standard, as a reasonably run force would be
 * (domain: national 81 % in 2023–24, only a minority of forces at 90 %). Calibrated by
 * running the model, not derived.
 */
export const PLAN_999 = { waitS: 5, target: 0.7 };
export const PLAN_101 = { waitS: 60, target: 0.4 };
export const MINIMUM_HANDLERS_999 = 2;
export const MINIMUM_HANDLERS_101 = 1;

export interface GradeResponse {
  /** Incident opened (or regraded) → first unit dispatched, seconds, at planned demand. */
  dispatchS: LogNormal;
  /** Share of incidents that wait for a free unit, and how long that adds, minutes. */
  noUnitShare: number;
  noUnitMin: [number, number];
  /** Dispatch → arrival, seconds, by area. */
  travelUrbanS: LogNormal;
  travelRuralS: LogNormal;
  /** Share of incidents that get a second unit. */
  secondUnitShare: number;
  /** First arrival → incident closed, seconds. */
  onSceneS: LogNormal;
}

/**
 * Attendance by grade. domain: targets are 15 min urban / 20 min rural for Immediate and
 * 60 min for Priority; Barnsley ~75 % of emergencies within 15 min (mean 11 min), Herts
 * 87 %; 45 % of priority within 60 min at the low end. The values below put a normal day
 * at roughly 85–90 % of G1 and 80–85 % of G2 on time, with a tail of late ones.
 */
export const RESPONSE: Record<1 | 2, GradeResponse> = {
  1: {
    dispatchS: { median: 60, sigma: 0.8 },
    noUnitShare: 0.05,
    noUnitMin: [5, 40],
    travelUrbanS: { median: 8 * 60, sigma: 0.4 },
    travelRuralS: { median: 12 * 60, sigma: 0.4 },
    secondUnitShare: 0.4,
    onSceneS: { median: 90 * 60, sigma: 0.6 },
  },
  2: {
    dispatchS: { median: 12 * 60, sigma: 0.9 },
    noUnitShare: 0.08,
    noUnitMin: [30, 180],
    travelUrbanS: { median: 10 * 60, sigma: 0.45 },
    travelRuralS: { median: 15 * 60, sigma: 0.45 },
    secondUnitShare: 0.1,
    onSceneS: { median: 60 * 60, sigma: 0.6 },
  },
};

/** G3: an appointment 3–48 h ahead (domain: "24–48 h or a diary appointment"). */
export const SCHEDULED = {
  attendedShare: 0.8,
  appointmentH: [3, 48] as [number, number],
  travelS: { median: 15 * 60, sigma: 0.5 },
  onSceneS: { median: 45 * 60, sigma: 0.5 },
  /** Resolved by phone instead: closed this many hours after opening. */
  closedWithoutVisitH: [1, 24] as [number, number],
};

/** G4: resolution without deployment; a few still get a visit hours later. */
export const RESOLVED_WITHOUT_DEPLOYMENT = {
  attendedShare: 0.05,
  visitAfterH: [1, 12] as [number, number],
  closedAfterS: { median: 30 * 60, sigma: 0.7 },
};

/**
 * Regrades (domain: inspectors found downgrades without reassessment; every regrade is
 * an event). Share of incidents of the grade, and when, minutes after opening.
 */
export const REGRADES = [
  { from: 1, to: 2, share: 0.06, afterMin: [1, 8] },
  { from: 2, to: 1, share: 0.04, afterMin: [2, 40] },
  { from: 2, to: 3, share: 0.03, afterMin: [10, 50] },
] as const;

/**
 * Victim updates on delayed G1/G2 incidents (metrics.md §4: grace 900 s after the
 * missed deadline). Of the updates made: some before the deadline, most within the
 * grace, some after it.
 */
export const VICTIM_UPDATES = {
  grace: 900_000,
  timing: { beforeDeadline: 0.25, withinGrace: 0.5, afterGrace: 0.25 },
};

/** Attendance targets of the default policy (metrics.md §1), ms. */
export function attendanceTarget(grade: number, area: 'urban' | 'rural'): number | null {
  if (grade === 1) return area === 'urban' ? 900_000 : 1_200_000;
  if (grade === 2) return 3_600_000;
  return null;
}

export interface District {
  name: string;
  /** Short code that prefixes the district's unit call signs, e.g. `CE21`. */
  code: string;
  /** Share of the force's incidents. */
  weight: number;
  /** Share of the district's incidents in urban areas. */
  urbanShare: number;
}

/** assumption: a county force with one large town; about 63 % of incidents urban. */
export const DEFAULT_DISTRICTS: readonly District[] = [
  { name: 'central', code: 'CE', weight: 0.26, urbanShare: 0.95 },
  { name: 'north', code: 'NO', weight: 0.16, urbanShare: 0.55 },
  { name: 'east', code: 'EA', weight: 0.15, urbanShare: 0.6 },
  { name: 'south', code: 'SO', weight: 0.14, urbanShare: 0.5 },
  { name: 'west', code: 'WE', weight: 0.15, urbanShare: 0.65 },
  { name: 'vale', code: 'VA', weight: 0.14, urbanShare: 0.3 },
];

/**
 * Default volumes: a mid-sized force. domain: Northamptonshire ~11 k 999 calls a month
 * (~135 k a year); 101 "similar or larger" (Herts ~1,500 calls a day both together).
 */
export const DEFAULT_CALLS_999_PER_YEAR = 135_000;
export const DEFAULT_CALLS_101_PER_YEAR = 200_000;
