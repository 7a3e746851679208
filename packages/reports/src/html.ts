import type { WeeklyReport } from '@callmon/compliance';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function cell(value: number | null, kind: 'count' | 'ratio' | 'ms' = 'count'): string {
  if (value === null) return '<td class="none">–</td>';
  if (kind === 'ratio') return `<td data-value="${value}">${(value * 100).toFixed(1)}%</td>`;
  if (kind === 'ms') return `<td data-value="${value}">${(value / 1000).toFixed(1)} s</td>`;
  return `<td>${value}</td>`;
}

/**
 * The weekly report as a printable HTML page: the same figures as the JSON, ratios shown
 * as percentages and durations in seconds with the exact value in `data-value`.
 */
export function weeklyReportHtml(report: WeeklyReport): string {
  const callRows = (['999', '101'] as const)
    .map((channel) => {
      const c = report.calls[channel];
      return `<tr><th scope="row">${channel}</th>${cell(c.presented)}${cell(c.answered)}${cell(c.abandoned)}${cell(c.unresolved)}${cell(c.within)}${cell(c.breached)}${cell(c.pending)}${cell(c.excluded)}${cell(c.compliance, 'ratio')}${cell(c.answer_ms.p50, 'ms')}${cell(c.answer_ms.p90, 'ms')}${cell(c.answer_ms.p95, 'ms')}${cell(c.answer_ms.max, 'ms')}${cell(c.answer_ms.mean, 'ms')}${cell(c.bands.le_10s)}${cell(c.bands.s10_to_60)}${cell(c.bands.gt_60s)}</tr>`;
    })
    .join('\n');
  const attendanceRows = Object.entries(report.attendance)
    .map(
      ([key, a]) =>
        `<tr><th scope="row">${escapeHtml(key)}</th>${cell(a.incidents)}${cell(a.attended)}${cell(a.within)}${cell(a.breached)}${cell(a.pending)}${cell(a.compliance, 'ratio')}${cell(a.attend_ms.p50, 'ms')}${cell(a.attend_ms.p90, 'ms')}${cell(a.attend_ms.p95, 'ms')}${cell(a.attend_ms.max, 'ms')}${cell(a.attend_ms.mean, 'ms')}</tr>`,
    )
    .join('\n');
  const v = report.victim_updates;
  const q = report.data_quality;
  const title = `Weekly report ${escapeHtml(report.force)} ${escapeHtml(report.week)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 0 0 1.5em; }
th, td { border: 1px solid #999; padding: 0.25em 0.5em; text-align: right; }
th[scope=row], caption { text-align: left; }
caption { font-weight: bold; padding: 0.25em 0; }
td.none { color: #666; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>${title}</h1>
<p>Force <strong>${escapeHtml(report.force)}</strong>, ISO week <strong>${escapeHtml(report.week)}</strong>
(${escapeHtml(report.from)} to ${escapeHtml(report.to)}, UTC), as of ${escapeHtml(report.as_of)}, policy <strong>${escapeHtml(report.policy)}</strong>.</p>
<table>
<caption>Calls</caption>
<thead><tr><th scope="col">channel</th><th>presented</th><th>answered</th><th>abandoned</th><th>unresolved</th><th>within</th><th>breached</th><th>pending</th><th>excluded</th><th>compliance</th><th>p50</th><th>p90</th><th>p95</th><th>max</th><th>mean</th><th>≤ 10 s</th><th>10–60 s</th><th>&gt; 60 s</th></tr></thead>
<tbody>
${callRows}
</tbody>
</table>
<table>
<caption>Attendance</caption>
<thead><tr><th scope="col">target</th><th>incidents</th><th>attended</th><th>within</th><th>breached</th><th>pending</th><th>compliance</th><th>p50</th><th>p90</th><th>p95</th><th>max</th><th>mean</th></tr></thead>
<tbody>
${attendanceRows}
</tbody>
</table>
<table>
<caption>Victim updates on delay</caption>
<thead><tr><th>met</th><th>breached</th><th>pending</th><th>compliance</th></tr></thead>
<tbody><tr>${cell(v.met)}${cell(v.breached)}${cell(v.pending)}${cell(v.compliance, 'ratio')}</tr></tbody>
</table>
<table>
<caption>Data quality</caption>
<thead><tr><th>negative durations</th><th>orphan events</th></tr></thead>
<tbody><tr>${cell(q.negative_durations)}${cell(q.orphan_events)}</tr></tbody>
</table>
</body>
</html>
`;
}
