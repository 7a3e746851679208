import { Policy, weeklyReport } from '@callmon/compliance';
import { parseEvent } from '@callmon/events';
import { describe, expect, it } from 'vitest';
import { weeklyReportCsv } from './csv.ts';
import { weeklyReportHtml } from './html.ts';
import { reportRows } from './report-rows.ts';

const lines = [
  { id: 'a', type: 'call.presented', at: '2024-02-19T10:00:00Z', call: 'c1', channel: '999' },
  { id: 'b', type: 'call.answered', at: '2024-02-19T10:00:08Z', call: 'c1' },
  { id: 'c', type: 'call.presented', at: '2024-02-20T10:00:00Z', call: 'c2', channel: '101' },
  {
    id: 'd',
    type: 'incident.opened',
    at: '2024-02-20T11:00:00Z',
    incident: 'i1',
    grade: 2,
    area: 'rural',
  },
];
const events = lines.map((line) => {
  const parsed = parseEvent(JSON.stringify({ v: 1, force: 'northants', ...line }));
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.event;
});
const report = weeklyReport(events, {
  force: 'northants',
  week: '2024-W08',
  asOf: Date.parse('2024-02-21T00:00:00Z'),
  policy: Policy.ukDefault(),
});

/** Every leaf of the JSON, found by walking it: what the flat forms must carry. */
function leaves(value: unknown, path: string[] = []): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      for (const [leaf, leafValue] of leaves(child, [...path, key])) found.set(leaf, leafValue);
    }
  } else found.set(path.join('/'), value);
  return found;
}

describe('report forms carry the same figures as the JSON', () => {
  const figures = [...leaves(report)].filter(([path]) =>
    /^(calls|attendance|victim_updates|data_quality)\//.test(path),
  );

  it('rows hold every figure of the JSON, once, with its value', () => {
    const rows = reportRows(report);
    const byPath = new Map(
      rows.map((row) => [
        [row.section, row.group, ...row.measure.split('.')].filter(Boolean).join('/'),
        row.value,
      ]),
    );
    expect(rows).toHaveLength(figures.length);
    for (const [path, value] of figures) expect(byPath.get(path)).toBe(value);
  });

  it('CSV has a header and one row per figure, nulls empty', () => {
    const csv = weeklyReportCsv(report).trimEnd().split('\r\n');
    expect(csv[0]).toBe('force,week,policy,from,to,as_of,section,group,measure,value');
    expect(csv).toHaveLength(figures.length + 1);
    expect(csv).toContain(
      'northants,2024-W08,uk-default-v1,2024-02-19T00:00:00.000Z,2024-02-26T00:00:00.000Z,2024-02-21T00:00:00.000Z,calls,999,answer_ms.p50,8000',
    );
    expect(csv).toContain(
      'northants,2024-W08,uk-default-v1,2024-02-19T00:00:00.000Z,2024-02-26T00:00:00.000Z,2024-02-21T00:00:00.000Z,calls,101,compliance,0',
    );
    expect(csv.find((row) => row.endsWith('attendance,G1-urban,compliance,'))).toBeDefined();
  });

  it('HTML shows the figures and escapes what it prints', () => {
    const html = weeklyReportHtml(report);
    expect(html).toContain('<td data-value="8000">8.0 s</td>');
    expect(html).toContain('<td data-value="1">100.0%</td>');
    const hostile = weeklyReportHtml({ ...report, force: '<script>x</script>' });
    expect(hostile).not.toContain('<script>x');
    expect(hostile).toContain('&lt;script&gt;x');
  });
});
