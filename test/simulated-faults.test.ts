import { Policy } from '@callmon/compliance';
import { replayLive, type SourceLine } from '@callmon/ingest';
import { simulate } from '@callmon/simulator';
import { describe, expect, it } from 'vitest';

/**
 * The data-faults scenario is the normal scenario plus late, duplicate, conflicting and
 * malformed lines (its originals always arrive first). Accepting first copies and
 * rejecting bad lines must therefore give exactly the normal scenario's figures: a
 * whole simulated day of faults, through the contract and the live engine.
 */

async function* asLines(lines: Iterable<{ line: string }>): AsyncGenerator<SourceLine> {
  let number = 0;
  for (const { line } of lines) yield { line: ++number, bytes: Buffer.from(line) };
}

describe('a simulated day of data faults', () => {
  const options = { seed: 7, start: '2024-02-19T00:00:00Z', days: 1 };
  const asOf = Date.parse('2024-02-20T06:00:00Z');
  const policy = Policy.ukDefault();

  it('gives the same live snapshot as the same day without faults', async () => {
    const clean = await replayLive(asLines(simulate({ ...options, scenario: 'normal' })), {
      force: 'northants',
      asOf,
      policy,
    });
    const faulty = await replayLive(asLines(simulate({ ...options, scenario: 'data-faults' })), {
      force: 'northants',
      asOf,
      policy,
    });
    expect(clean.counts.rejected).toBe(0);
    expect(faulty.counts.rejected).toBeGreaterThan(0);
    expect(faulty.counts.duplicates).toBeGreaterThan(0);
    expect(faulty.counts.conflicts).toBeGreaterThan(0);
    expect(faulty.counts.accepted).toBe(clean.counts.accepted);
    expect(faulty.snapshot).toEqual(clean.snapshot);
    expect(clean.snapshot.windows['24h'].calls['999'].presented).toBeGreaterThan(100);
  });
});
