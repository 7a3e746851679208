export const SCENARIOS = ['normal', 'friday-night-surge', 'understaffed', 'data-faults'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** Probability per event of each delivery fault (data-faults scenario). */
export interface FaultRates {
  /** Delivered 1–8 hours after its `at`. */
  late: number;
  /** Delivered seconds to minutes late, so it arrives after later events. */
  reordered: number;
  /** Delivered a second time, byte for byte. */
  duplicate: number;
  /** Another event with the same id and different content, delivered after it. */
  conflict: number;
  /** A malformed line delivered near it. */
  malformed: number;
}

export interface Scenario {
  name: ScenarioName;
  description: string;
  /** Start when none is given: a Monday, or Friday noon for the Friday-night scenario. */
  defaultStart: string;
  /** Handlers on the floor over handlers the rota plans. */
  staffingFactor: number;
  /** Unplanned extra demand on Friday/Saturday nights, 20:00–04:00. */
  weekendNightSurge999: number;
  weekendNightSurge101: number;
  fridayMajorIncident: boolean;
  surgesPerDay: number;
  /** Multiplies dispatch delays and the chance of waiting for a free unit. */
  attendanceFactor: number;
  /** Share of delayed G1/G2 incidents whose caller gets an update. */
  victimUpdateShare: number;
  faults: FaultRates | null;
}

const normal: Scenario = {
  name: 'normal',
  description: 'an ordinary week: demand as planned, random bursts, full rota',
  defaultStart: '2024-02-19T00:00:00.000Z',
  staffingFactor: 1,
  weekendNightSurge999: 1,
  weekendNightSurge101: 1,
  fridayMajorIncident: false,
  surgesPerDay: 0.6,
  attendanceFactor: 1,
  victimUpdateShare: 0.8,
  faults: null,
};

export const SCENARIO_DEFINITIONS: Record<ScenarioName, Scenario> = {
  normal,
  'friday-night-surge': {
    ...normal,
    name: 'friday-night-surge',
    description:
      'Friday and Saturday nights 60 % busier on 999 than planned, a major incident at 23:00 on Friday',
    // Noon on a Friday: a one-day run covers the whole of Friday night.
    defaultStart: '2024-02-23T12:00:00.000Z',
    weekendNightSurge999: 1.6,
    weekendNightSurge101: 1.2,
    fridayMajorIncident: true,
  },
  understaffed: {
    ...normal,
    name: 'understaffed',
    description:
      '70 % of the planned call handlers on the floor, fewer units (slower dispatch), fewer victim updates',
    staffingFactor: 0.7,
    attendanceFactor: 1.4,
    victimUpdateShare: 0.5,
  },
  'data-faults': {
    ...normal,
    name: 'data-faults',
    description:
      'normal, delivered badly: late, out-of-order, duplicate and conflicting events, malformed lines',
    faults: { late: 0.005, reordered: 0.03, duplicate: 0.01, conflict: 0.002, malformed: 0.005 },
  },
};

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name);
}
