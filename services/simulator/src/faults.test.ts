import { eventFingerprint, parseEvent, REJECT_REASONS } from '@callmon/events';
import { describe, expect, it } from 'vitest';
import type { SimulatedLine } from './simulate.ts';
import { count, linesOf } from './test-helpers.ts';

const HOUR = 3_600_000;
const run = { seed: 7, start: '2024-02-19T00:00:00Z', days: 3 } as const;
const faulty = linesOf({ ...run, scenario: 'data-faults' });
const parsed = faulty.map((l) => ({ ...l, result: parseEvent(l.line) }));

describe('data-faults: malformed lines', () => {
  const malformed = parsed.filter((l) => l.fault?.kind === 'malformed');

  it('every malformed line is rejected by parseEvent with the reason it was made for', () => {
    expect(malformed.length).toBeGreaterThan(50);
    for (const l of malformed) {
      if (l.fault?.kind !== 'malformed') continue;
      expect(l.result.ok, `${l.fault.variant}: ${l.line.slice(0, 200)}`).toBe(false);
      if (!l.result.ok) expect(l.result.reason, l.fault.variant).toBe(l.fault.reason);
    }
  });

  it('every reason a line of text can be rejected for occurs', () => {
    const reasons = new Set(parsed.flatMap((l) => (l.result.ok ? [] : [l.result.reason])));
    // invalid_encoding needs bytes that are not UTF-8, which a JS string line cannot carry.
    expect([...reasons].sort()).toEqual(
      REJECT_REASONS.filter((r) => r !== 'invalid_encoding').sort(),
    );
  });

  it('bad timestamps and missing fields occur among them', () => {
    const rejected = parsed.flatMap((l) => (l.result.ok ? [] : [l.result]));
    expect(
      count(rejected, (r) => r.reason === 'invalid_field' && r.field === 'at'),
    ).toBeGreaterThan(3);
    const missing = new Set(
      rejected.filter((r) => r.reason === 'missing_field').map((r) => r.field),
    );
    for (const field of ['v', 'id', 'type', 'at', 'force']) expect(missing).toContain(field);
  });

  it('every line that is not a deliberately malformed one is a valid event', () => {
    for (const l of parsed) {
      if (l.fault?.kind === 'malformed') continue;
      expect(l.result.ok, l.line).toBe(true);
    }
  });
});

describe('data-faults: delivery', () => {
  const accepted = parsed.flatMap((l) => (l.result.ok ? [{ ...l, event: l.result.event }] : []));

  it('lines come in delivery order', () => {
    for (let k = 1; k < faulty.length; k++) {
      expect(faulty[k]!.deliverAt).toBeGreaterThanOrEqual(faulty[k - 1]!.deliverAt);
    }
  });

  it('some events arrive hours after their event time', () => {
    expect(count(accepted, (l) => l.deliverAt - l.event.at >= HOUR)).toBeGreaterThan(10);
  });

  it('some events arrive after events that happened later (out of order)', () => {
    let latest = Number.NEGATIVE_INFINITY;
    let outOfOrder = 0;
    for (const l of accepted) {
      if (l.event.at < latest) outOfOrder++;
      latest = Math.max(latest, l.event.at);
    }
    expect(outOfOrder).toBeGreaterThan(100);
  });

  it('some events are delivered again byte for byte, and each repeat is marked so', () => {
    const seen = new Set<string>();
    let repeats = 0;
    for (const l of accepted) {
      if (seen.has(l.line)) {
        repeats++;
        expect(l.fault?.kind).toBe('duplicate');
      }
      seen.add(l.line);
    }
    expect(repeats).toBeGreaterThan(10);
  });

  it('some events reuse an earlier id with different content (conflicts), always after the original', () => {
    const first = new Map<string, string>();
    let conflicts = 0;
    for (const l of accepted) {
      const fingerprint = eventFingerprint(l.event);
      const earlier = first.get(l.event.id);
      if (earlier === undefined) {
        expect(l.fault?.kind, l.line).not.toBe('conflict');
        first.set(l.event.id, fingerprint);
      } else if (earlier !== fingerprint) {
        conflicts++;
        expect(l.fault?.kind).toBe('conflict');
      }
    }
    expect(conflicts).toBeGreaterThan(3);
  });

  it('apart from deliberate duplicates and conflicts, every id is unique', () => {
    const ids = accepted.filter(
      (l) => l.fault?.kind !== 'duplicate' && l.fault?.kind !== 'conflict',
    );
    expect(new Set(ids.map((l) => l.event.id)).size).toBe(ids.length);
  });

  it('kept to the first copy of each id, the events are exactly the normal scenario’s', () => {
    const firstCopies = new Map<string, string>();
    for (const l of accepted) if (!firstCopies.has(l.event.id)) firstCopies.set(l.event.id, l.line);
    const normal: readonly SimulatedLine[] = linesOf({ ...run, scenario: 'normal' });
    expect([...firstCopies.values()].sort()).toEqual(normal.map((l) => l.line).sort());
  });
});
