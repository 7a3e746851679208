import { EVENT_TYPES, type EventType, type RejectReason } from '@callmon/events';
import { UtcFormatter } from './calendar.ts';

/** What the data-faults scenario did to a line, so tests and demos can check it. */
export type LineFault =
  | { kind: 'late' | 'reordered' | 'duplicate' | 'conflict' }
  | { kind: 'malformed'; reason: RejectReason; variant: string };

export type FaultKind = LineFault['kind'];

/**
 * One simulated event on its way out. A single class with every field of every type
 * (null where unused) keeps the objects one shape, which matters at a million a second.
 */
export class SimEvent {
  call: string | null = null;
  channel: '999' | '101' | null = null;
  queue: string | null = null;
  handler: string | null = null;
  incident: string | null = null;
  grade = 0;
  area: 'urban' | 'rural' | null = null;
  /** The district's name as a JSON string literal, quotes included (escaped once). */
  districtJson: string | null = null;
  unit: string | null = null;
  /** When the line should reach the monitor (UTC ms): `at`, unless a fault delays it. */
  deliverAt: number;
  /** A ready-made line that is not this event's serialisation (a malformed line). */
  raw: string | null = null;
  fault: LineFault | null = null;

  constructor(
    readonly type: EventType,
    public id: string,
    public at: number,
  ) {
    this.deliverAt = at;
  }

  clone(): SimEvent {
    const copy = new SimEvent(this.type, this.id, this.at);
    copy.call = this.call;
    copy.channel = this.channel;
    copy.queue = this.queue;
    copy.handler = this.handler;
    copy.incident = this.incident;
    copy.grade = this.grade;
    copy.area = this.area;
    copy.districtJson = this.districtJson;
    copy.unit = this.unit;
    copy.deliverAt = this.deliverAt;
    return copy;
  }
}

/**
 * Serialises events as wire lines (docs/events.md), without the newline. Built by
 * concatenation rather than JSON.stringify, from as few pieces as possible (the type and
 * force part of each line is made once): every string in a line is an id or label the
 * simulator made from `[a-z0-9-]`, except the district, which is escaped once up front.
 */
export class WireFormat {
  private readonly time = new UtcFormatter();
  private readonly typeAndForce: Record<EventType, string>;

  constructor(force: string) {
    const forceJson = JSON.stringify(force);
    this.typeAndForce = Object.fromEntries(
      EVENT_TYPES.map((type) => [type, `","type":"${type}","force":${forceJson},"at":"`]),
    ) as Record<EventType, string>;
  }

  line(e: SimEvent): string {
    if (e.raw !== null) return e.raw;
    const head = '{"v":1,"id":"' + e.id + this.typeAndForce[e.type] + this.time.format(e.at);
    switch (e.type) {
      case 'call.presented':
        return (
          head +
          '","call":"' +
          e.call +
          '","channel":"' +
          e.channel +
          '","queue":"' +
          e.queue +
          SOURCE
        );
      case 'call.answered':
        return head + '","call":"' + e.call + '","handler":"' + e.handler + SOURCE;
      case 'call.abandoned':
      case 'call.closed':
        return head + '","call":"' + e.call + SOURCE;
      case 'incident.opened':
        return (
          head +
          '","incident":"' +
          e.incident +
          '","grade":' +
          e.grade +
          ',"area":"' +
          e.area +
          (e.call === null ? '"' : '","call":"' + e.call + '"') +
          (e.districtJson === null ? '' : ',"district":' + e.districtJson) +
          ',"source":"sim"}'
        );
      case 'incident.regraded':
        return head + '","incident":"' + e.incident + '","grade":' + e.grade + ',"source":"sim"}';
      case 'unit.dispatched':
      case 'unit.arrived':
        return head + '","incident":"' + e.incident + '","unit":"' + e.unit + SOURCE;
      case 'victim.updated':
      case 'incident.closed':
        return head + '","incident":"' + e.incident + SOURCE;
    }
  }
}

const SOURCE = '","source":"sim"}';
