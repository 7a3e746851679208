import type { WeeklyReport } from '@callmon/compliance';
import { reportRows } from './report-rows.ts';

/** RFC 4180 quoting: only where a field needs it. */
function field(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The weekly report as CSV, one figure per row (long form, for spreadsheets and
 * pivoting): the report's identity on every row, then section, group, measure, value.
 * A null figure is an empty value.
 */
export function weeklyReportCsv(report: WeeklyReport): string {
  const header = [
    'force',
    'week',
    'policy',
    'from',
    'to',
    'as_of',
    'section',
    'group',
    'measure',
    'value',
  ];
  const identity = [report.force, report.week, report.policy, report.from, report.to, report.as_of];
  const lines = [header.join(',')];
  for (const row of reportRows(report)) {
    lines.push([...identity, row.section, row.group, row.measure, row.value].map(field).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
