import { MAX_EVENT_BYTES, type RejectReason } from '@callmon/events';
import { HOUR, MINUTE } from './calendar.ts';
import type { Rng } from './prng.ts';
import type { FaultRates } from './scenarios.ts';
import { SimEvent } from './sim-event.ts';

type Wire = Record<string, unknown>;

interface Malformation {
  /** Stable name, reported with the line (`LineFault.variant`). */
  name: string;
  reason: RejectReason;
  appliesTo?: (wire: Wire) => boolean;
  /** `line` is `wire` serialised; `wire` is a private copy that may be changed. */
  make: (wire: Wire, line: string) => string;
}

const json = (wire: Wire) => JSON.stringify(wire);
const edit =
  (change: (wire: Wire) => void) =>
  (wire: Wire): string => {
    change(wire);
    return json(wire);
  };
const subject = (wire: Wire) =>
  'call' in wire && wire.type !== 'incident.opened' ? 'call' : 'incident';
const isType =
  (...types: string[]) =>
  (wire: Wire) =>
    types.includes(wire.type as string);
const at = (wire: Wire) => wire.at as string;

/**
 * The kinds of broken input an adapter or a network produces, grouped by the reason
 * `parseEvent` must give when it rejects them. Each group is used in turn, and each
 * variant within a group in turn, so even a short run shows every kind.
 */
const MALFORMATIONS: readonly Malformation[][] = [
  [
    {
      name: 'truncated',
      reason: 'invalid_json',
      make: (_, line) => line.slice(0, Math.floor(line.length * 0.6)),
    },
    { name: 'trailing-comma', reason: 'invalid_json', make: (_, line) => `${line.slice(0, -1)},}` },
    { name: 'single-quotes', reason: 'invalid_json', make: (_, line) => line.replaceAll('"', "'") },
    { name: 'two-events-one-line', reason: 'invalid_json', make: (_, line) => line + line },
    { name: 'nan-version', reason: 'invalid_json', make: (_, line) => `{"v":NaN${line.slice(6)}` },
    {
      name: 'control-character',
      reason: 'invalid_json',
      make: (_, line) => line.replace('"id":"', '"id":"\t'),
    },
  ],
  [
    { name: 'array', reason: 'not_an_object', make: (_, line) => `[${line}]` },
    { name: 'double-encoded', reason: 'not_an_object', make: (_, line) => JSON.stringify(line) },
    { name: 'null', reason: 'not_an_object', make: () => 'null' },
    { name: 'number', reason: 'not_an_object', make: () => '42' },
  ],
  [
    {
      name: 'version-2',
      reason: 'unsupported_version',
      make: edit((w) => {
        w.v = 2;
      }),
    },
    {
      name: 'version-string',
      reason: 'unsupported_version',
      make: edit((w) => {
        w.v = '1';
      }),
    },
    {
      name: 'version-0',
      reason: 'unsupported_version',
      make: edit((w) => {
        w.v = 0;
      }),
    },
    {
      name: 'version-1.1',
      reason: 'unsupported_version',
      make: edit((w) => {
        w.v = 1.1;
      }),
    },
  ],
  [
    {
      name: 'call.transferred',
      reason: 'unknown_type',
      make: edit((w) => {
        w.type = 'call.transferred';
      }),
    },
    {
      name: 'upper-case-type',
      reason: 'unknown_type',
      make: edit((w) => {
        w.type = (w.type as string).toUpperCase();
      }),
    },
    {
      name: 'numeric-type',
      reason: 'unknown_type',
      make: edit((w) => {
        w.type = 3;
      }),
    },
    {
      name: 'incident.reopened',
      reason: 'unknown_type',
      make: edit((w) => {
        w.type = 'incident.reopened';
      }),
    },
  ],
  [
    {
      name: 'no-id',
      reason: 'missing_field',
      make: edit((w) => {
        delete w.id;
      }),
    },
    {
      name: 'no-at',
      reason: 'missing_field',
      make: edit((w) => {
        delete w.at;
      }),
    },
    {
      name: 'no-force',
      reason: 'missing_field',
      make: edit((w) => {
        delete w.force;
      }),
    },
    {
      name: 'no-type',
      reason: 'missing_field',
      make: edit((w) => {
        delete w.type;
      }),
    },
    {
      name: 'no-version',
      reason: 'missing_field',
      make: edit((w) => {
        delete w.v;
      }),
    },
    {
      name: 'no-subject',
      reason: 'missing_field',
      make: edit((w) => {
        delete w[subject(w)];
      }),
    },
    {
      name: 'no-channel',
      reason: 'missing_field',
      appliesTo: isType('call.presented'),
      make: edit((w) => {
        delete w.channel;
      }),
    },
    {
      name: 'no-grade',
      reason: 'missing_field',
      appliesTo: isType('incident.opened', 'incident.regraded'),
      make: edit((w) => {
        delete w.grade;
      }),
    },
  ],
  [
    {
      name: 'time-without-zone',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = at(w).slice(0, -1);
      }),
    },
    {
      name: 'time-space-separator',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = at(w).replace('T', ' ');
      }),
    },
    {
      name: 'time-30-february',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = `${at(w).slice(0, 5)}02-30${at(w).slice(10)}`;
      }),
    },
    {
      name: 'time-hour-24',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = `${at(w).slice(0, 11)}24${at(w).slice(13)}`;
      }),
    },
    {
      name: 'time-microseconds',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = `${at(w).slice(0, -1)}456Z`;
      }),
    },
    {
      name: 'time-epoch-ms',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = Date.parse(at(w));
      }),
    },
    {
      name: 'time-date-only',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = at(w).slice(0, 10);
      }),
    },
    {
      name: 'time-offset-without-colon',
      reason: 'invalid_field',
      make: edit((w) => {
        w.at = `${at(w).slice(0, -1)}+0100`;
      }),
    },
  ],
  [
    {
      name: 'empty-id',
      reason: 'invalid_field',
      make: edit((w) => {
        w.id = '';
      }),
    },
    {
      name: 'id-too-long',
      reason: 'invalid_field',
      make: edit((w) => {
        w.id = 'x'.repeat(129);
      }),
    },
    {
      name: 'force-not-a-code',
      reason: 'invalid_field',
      make: edit((w) => {
        w.force = 'Northants Police';
      }),
    },
    {
      name: 'empty-source',
      reason: 'invalid_field',
      make: edit((w) => {
        w.source = '';
      }),
    },
    {
      name: 'numeric-subject',
      reason: 'invalid_field',
      make: edit((w) => {
        w[subject(w)] = 123;
      }),
    },
    {
      name: 'grade-5',
      reason: 'invalid_field',
      appliesTo: isType('incident.opened', 'incident.regraded'),
      make: edit((w) => {
        w.grade = 5;
      }),
    },
    {
      name: 'grade-as-string',
      reason: 'invalid_field',
      appliesTo: isType('incident.opened', 'incident.regraded'),
      make: edit((w) => {
        w.grade = String(w.grade);
      }),
    },
    {
      name: 'channel-as-number',
      reason: 'invalid_field',
      appliesTo: isType('call.presented'),
      make: edit((w) => {
        w.channel = Number(w.channel);
      }),
    },
    {
      name: 'area-suburban',
      reason: 'invalid_field',
      appliesTo: isType('incident.opened'),
      make: edit((w) => {
        w.area = 'suburban';
      }),
    },
  ],
];

const TOO_LARGE: Malformation = {
  name: 'too-large',
  reason: 'too_large',
  make: edit((w) => {
    w.notes = 'x'.repeat(MAX_EVENT_BYTES);
  }),
};
/** One malformed line in this many is oversized: enough to see, without bloating files. */
const TOO_LARGE_EVERY = 50;

/**
 * The data-faults scenario's delivery problems, applied to each simulated event as it
 * is produced. Every fault is added on top of the clean stream: the original event is
 * always delivered, and duplicates and conflicting copies always after it, so once
 * duplicates are dropped, conflicts kept out and malformed lines rejected, what is left
 * is exactly the `normal` scenario's stream for the same seed.
 */
export class FaultInjector {
  private malformedCount = 0;
  private readonly variantTurn: number[] = MALFORMATIONS.map(() => 0);

  constructor(
    private readonly rates: FaultRates,
    private readonly rng: Rng,
  ) {}

  /**
   * May delay `event` and may add extra lines through `add`. `lineOf` serialises an
   * event as it would go on the wire.
   */
  apply(event: SimEvent, add: (extra: SimEvent) => void, lineOf: (e: SimEvent) => string): void {
    const { rng, rates } = this;
    const x = rng.next();
    if (x < rates.late) {
      event.deliverAt = event.at + Math.round(rng.uniform(1, 8) * HOUR);
      event.fault = { kind: 'late' };
    } else if (x < rates.late + rates.reordered) {
      event.deliverAt = event.at + Math.round(rng.uniform(1_000, 10 * MINUTE));
      event.fault = { kind: 'reordered' };
    }
    if (rng.chance(rates.duplicate)) {
      const copy = event.clone();
      copy.deliverAt = event.deliverAt + Math.round(rng.uniform(500, 30 * MINUTE));
      copy.fault = { kind: 'duplicate' };
      add(copy);
    }
    if (rng.chance(rates.conflict)) {
      const copy = this.conflicting(event);
      copy.deliverAt = event.deliverAt + Math.round(rng.uniform(1_000, HOUR));
      copy.fault = { kind: 'conflict' };
      add(copy);
    }
    if (rng.chance(rates.malformed)) {
      const k = this.malformedCount++;
      const wire = JSON.parse(lineOf(event)) as Wire;
      wire.id = `${wire.id}-bad${k}`;
      const m = this.nextMalformation(k, wire);
      const bad = new SimEvent(event.type, wire.id as string, event.at);
      bad.raw = m.make(wire, json(wire));
      bad.deliverAt = event.deliverAt + Math.round(rng.uniform(0, 60_000));
      bad.fault = { kind: 'malformed', reason: m.reason, variant: m.name };
      add(bad);
    }
  }

  private nextMalformation(k: number, wire: Wire): Malformation {
    if (k % TOO_LARGE_EVERY === 7) return TOO_LARGE;
    const group = k % MALFORMATIONS.length;
    const variants = MALFORMATIONS[group]!;
    for (;;) {
      const m = variants[this.variantTurn[group]!++ % variants.length]!;
      if (m.appliesTo === undefined || m.appliesTo(wire)) return m;
    }
  }

  /** Same id, different content: what a source that re-sends an edited record produces. */
  private conflicting(event: SimEvent): SimEvent {
    const copy = event.clone();
    const { rng } = this;
    if (rng.chance(0.5)) {
      switch (event.type) {
        case 'call.presented':
          copy.channel = event.channel === '999' ? '101' : '999';
          return copy;
        case 'call.answered':
          copy.handler = `${event.handler}0`;
          return copy;
        case 'incident.opened':
        case 'incident.regraded':
          copy.grade = (event.grade % 4) + 1;
          return copy;
        case 'unit.dispatched':
        case 'unit.arrived':
          copy.unit = `${event.unit}X`;
          return copy;
        default:
          break;
      }
    }
    copy.at = event.at + Math.round(rng.uniform(1_000, 120_000));
    return copy;
  }
}
