import type { Distribution, WeeklyReport } from '@callmon/compliance';

/** One figure of a report: where it sits and its value (null where the spec says null). */
export interface ReportRow {
  section: 'calls' | 'attendance' | 'victim_updates' | 'data_quality';
  /** Channel (`999`), attendance key (`G1-urban`), or empty. */
  group: string;
  /** Figure name, dotted for nested ones (`answer_ms.p90`, `bands.le_10s`). */
  measure: string;
  value: number | null;
}

function distributionRows(
  section: ReportRow['section'],
  group: string,
  name: string,
  distribution: Distribution,
): ReportRow[] {
  return (Object.keys(distribution) as (keyof Distribution)[]).map((key) => ({
    section,
    group,
    measure: `${name}.${key}`,
    value: distribution[key],
  }));
}

/**
 * Every figure of a weekly report as rows, in the order of the canonical JSON — the one
 * flattening the CSV and HTML forms share, so they carry exactly the JSON's figures.
 */
export function reportRows(report: WeeklyReport): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const channel of ['999', '101'] as const) {
    const figures = report.calls[channel];
    for (const [measure, value] of Object.entries(figures)) {
      if (measure === 'answer_ms')
        rows.push(...distributionRows('calls', channel, measure, figures.answer_ms));
      else if (measure === 'bands') {
        for (const [band, count] of Object.entries(figures.bands)) {
          rows.push({ section: 'calls', group: channel, measure: `bands.${band}`, value: count });
        }
      } else
        rows.push({ section: 'calls', group: channel, measure, value: value as number | null });
    }
  }
  for (const [key, figures] of Object.entries(report.attendance)) {
    for (const [measure, value] of Object.entries(figures)) {
      if (measure === 'attend_ms')
        rows.push(...distributionRows('attendance', key, measure, figures.attend_ms));
      else rows.push({ section: 'attendance', group: key, measure, value: value as number | null });
    }
  }
  for (const [measure, value] of Object.entries(report.victim_updates)) {
    rows.push({ section: 'victim_updates', group: '', measure, value });
  }
  for (const [measure, value] of Object.entries(report.data_quality)) {
    rows.push({ section: 'data_quality', group: '', measure, value });
  }
  return rows;
}
