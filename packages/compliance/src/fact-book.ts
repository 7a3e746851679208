import { type CallmonEvent, isCallEvent } from '@callmon/events';
import {
  type CallFacts,
  foldCallEvent,
  foldIncidentEvent,
  type IncidentFacts,
  newCallFacts,
  newIncidentFacts,
} from './facts.ts';

/**
 * The facts of one force's calls and incidents, folded from its accepted events. The
 * live engine passes factories that give its items their tracking fields up front.
 */
export class FactBook<
  Call extends CallFacts = CallFacts,
  Incident extends IncidentFacts = IncidentFacts,
> {
  readonly calls = new Map<string, Call>();
  readonly incidents = new Map<string, Incident>();

  constructor(
    private readonly makeCall: (call: string) => Call = newCallFacts as (call: string) => Call,
    private readonly makeIncident: (incident: string) => Incident = newIncidentFacts as (
      incident: string,
    ) => Incident,
  ) {}

  /** Fold an accepted, de-duplicated event in; returns the item whose facts changed. */
  apply(event: CallmonEvent): Call | Incident | undefined {
    const item = this.itemFor(event);
    return this.fold(item, event) ? item : undefined;
  }

  /** The call or incident an event is about, created on its first event. */
  itemFor(event: CallmonEvent): Call | Incident {
    if (isCallEvent(event)) {
      let facts = this.calls.get(event.call);
      if (facts === undefined) {
        facts = this.makeCall(event.call);
        this.calls.set(event.call, facts);
      }
      return facts;
    }
    let facts = this.incidents.get(event.incident);
    if (facts === undefined) {
      facts = this.makeIncident(event.incident);
      this.incidents.set(event.incident, facts);
    }
    return facts;
  }

  /** Fold an event into its item's facts; returns whether they changed. */
  fold(item: Call | Incident, event: CallmonEvent): boolean {
    return isCallEvent(event)
      ? foldCallEvent(item as Call, event)
      : foldIncidentEvent(item as Incident, event);
  }
}
