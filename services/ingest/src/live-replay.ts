import { EventDeduper, LiveEngine, type LiveSnapshot, type Policy } from '@callmon/compliance';
import { parseEvent, type RejectReason } from '@callmon/events';
import { isBlank, type SourceLine } from './ndjson-source.ts';

export interface ReplayCounts {
  /** Non-blank lines read. */
  lines: number;
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Accepted events of the force with `at <= T`, fed to the engine. */
  applied: number;
}

/**
 * `callmon live`: accept and de-duplicate the whole file as ingestion would (first copy
 * of each (force, id) wins), feed the accepted events of `force` with `at <= asOf`
 * through the live engine in file order, advance its clock to `asOf`, and return the
 * §8 snapshot.
 */
export async function replayLive(
  lines: AsyncIterable<SourceLine>,
  options: { force: string; asOf: number; policy: Policy },
): Promise<{ snapshot: LiveSnapshot; counts: ReplayCounts }> {
  const { force, asOf, policy } = options;
  const deduper = new EventDeduper();
  const engine = new LiveEngine({ force, policy });
  const counts: ReplayCounts = {
    lines: 0,
    accepted: 0,
    duplicates: 0,
    conflicts: 0,
    rejected: 0,
    rejectedByReason: {},
    applied: 0,
  };
  for await (const { bytes } of lines) {
    if (isBlank(bytes)) continue;
    counts.lines++;
    const parsed = parseEvent(bytes);
    if (!parsed.ok) {
      counts.rejected++;
      counts.rejectedByReason[parsed.reason] = (counts.rejectedByReason[parsed.reason] ?? 0) + 1;
      continue;
    }
    const admission = deduper.admit(parsed.event);
    if (admission === 'duplicate') counts.duplicates++;
    else if (admission === 'conflict') counts.conflicts++;
    else {
      counts.accepted++;
      if (parsed.event.force === force && parsed.event.at <= asOf) {
        engine.apply(parsed.event);
        counts.applied++;
      }
    }
  }
  engine.advanceTo(asOf);
  return { snapshot: engine.snapshot(), counts };
}

export function describeCounts(counts: ReplayCounts): string {
  const reasons = Object.entries(counts.rejectedByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  return (
    `${counts.lines} lines: ${counts.accepted} accepted, ${counts.duplicates} duplicates, ` +
    `${counts.conflicts} conflicts, ${counts.rejected} rejected${reasons ? ` (${reasons})` : ''}; ` +
    `${counts.applied} applied`
  );
}
