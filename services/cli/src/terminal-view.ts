import type { LiveAlert, LiveSnapshot } from '@callmon/compliance';
import { formatUtc } from '@callmon/events';

const WINDOWS = ['15m', '1h', '24h'] as const;

function percent(value: number | null): string {
  return value === null ? '   –  ' : `${(value * 100).toFixed(1).padStart(5)}%`;
}

/** One breach or clear as a feed line. */
export function alertLine(alert: LiveAlert): string {
  const when = formatUtc(alert.at).slice(11, 19);
  if (alert.kind === 'breach') {
    const what =
      alert.rule === 'call.unanswered'
        ? `${alert.channel} call ${alert.item} unanswered past ${formatUtc(alert.deadline).slice(11, 19)}`
        : alert.rule === 'attendance'
          ? `G${alert.grade} ${alert.area} incident ${alert.item} not attended by ${formatUtc(alert.deadline).slice(11, 19)}`
          : `victim of ${alert.item} not updated by ${formatUtc(alert.deadline).slice(11, 19)}`;
    return `${when} BREACH  ${what}`;
  }
  return `${when} cleared ${alert.rule} ${alert.item}${alert.wasBreached ? ' (was breached)' : ''}`;
}

/**
 * The supervisor's terminal view until the dashboard exists: compliance per channel and
 * window against target, what is outstanding now, and the latest breaches. Marks on the
 * figures (✓ on target, ✗ below) do not rely on colour.
 */
export function renderView(
  snapshot: LiveSnapshot,
  outstanding: { ringing: number; unattended: number; updatesOwed: number },
  recent: readonly string[],
  targets: { '999': number; '101': number },
): string {
  const lines: string[] = [];
  lines.push(`callmon — ${snapshot.force} — ${snapshot.as_of} — policy ${snapshot.policy}`);
  lines.push('');
  lines.push(`            ${WINDOWS.map((w) => w.padStart(16)).join('')}`);
  for (const channel of ['999', '101'] as const) {
    const cells = WINDOWS.map((window) => {
      const figures = snapshot.windows[window].calls[channel];
      const mark =
        figures.compliance === null ? ' ' : figures.compliance >= targets[channel] ? '✓' : '✗';
      return `${percent(figures.compliance)} ${mark} ${String(figures.presented).padStart(6)}`;
    });
    lines.push(`  ${channel} calls  ${cells.map((cell) => cell.padStart(16)).join('')}`);
  }
  for (const [key, figures] of Object.entries(snapshot.windows['24h'].attendance)) {
    lines.push(
      `  attendance ${key.padEnd(9)} 24h ${percent(figures.compliance)}  (${figures.incidents} incidents)`,
    );
  }
  const updates = snapshot.windows['24h'].victim_updates;
  lines.push(
    `  victim updates     24h ${percent(updates.compliance)}  (${updates.met + updates.breached} due)`,
  );
  lines.push('');
  lines.push(
    `  ringing now ${outstanding.ringing}   G1/G2 not attended ${outstanding.unattended}   callers owed an update ${outstanding.updatesOwed}`,
  );
  lines.push('');
  lines.push('  latest breaches and clears:');
  for (const line of recent) lines.push(`  ${line}`);
  return lines.join('\n');
}
