export { weeklyReportCsv } from './csv.ts';
export { weeklyReportHtml } from './html.ts';
export { type ReportRow, reportRows } from './report-rows.ts';
