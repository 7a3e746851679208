import { CalendarError, isoWeekWindow } from '@callmon/compliance';
import {
  type CommandIo,
  choiceFlag,
  instantFlag,
  loadConfig,
  parseFlags,
  required,
  storeTarget,
  UsageError,
} from '@callmon/config';
import { loadPolicy, systemClock } from '@callmon/ingest';
import { weeklyReportCsv, weeklyReportHtml } from '@callmon/reports';
import { openStore } from '@callmon/store';

export const REPORT_HELP = `Usage: callmon report weekly --force F --week YYYY-Www [--as-of ISO]
                             [--format json|csv|html] [--data-dir DIR] [--policy FILE]

Print a force's weekly report (metrics.md §7) from the stored events: ISO week YYYY-Www in
the policy's time zone, every call and incident classified as of --as-of (default: now).
json is the canonical object; csv has one figure per row; html is a printable page.

Options:
  --force F          force code, e.g. northants
  --week YYYY-Www    ISO week, e.g. 2024-W08
  --as-of ISO        evaluation instant with a zone (default: now)
  --format F         json (default), csv or html
  --data-dir DIR     embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --policy FILE      force policy file (JSON); default uk-default-v1
  --help             this text
`;

const FORMATS = ['json', 'csv', 'html'] as const;

export async function reportCommand(argv: string[], io: CommandIo): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === '--help' || kind === '-h' || kind === undefined) {
    io.stdout.write(REPORT_HELP);
    return kind === undefined ? 2 : 0;
  }
  if (kind !== 'weekly') throw new UsageError(`unknown report "${kind}"; available: weekly`);
  const { values } = parseFlags(rest, {
    force: { type: 'string' },
    week: { type: 'string' },
    'as-of': { type: 'string' },
    format: { type: 'string', default: 'json' },
    'data-dir': { type: 'string' },
    policy: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return 0;
  }
  const force = required(values.force, 'force');
  const week = required(values.week, 'week');
  const format = choiceFlag(values.format ?? 'json', 'format', FORMATS);
  const asOf =
    values['as-of'] === undefined ? systemClock.now() : instantFlag(values['as-of'], 'as-of');
  const config = loadConfig({ overrides: { dataDir: values['data-dir'] } });
  const policy = await loadPolicy(values.policy ?? config.policyFile);
  try {
    isoWeekWindow(week, policy.timezone);
  } catch (error) {
    if (error instanceof CalendarError) throw new UsageError(`--week: ${error.message}`);
    throw error;
  }

  const store = await openStore(storeTarget(config));
  try {
    const report = await store.weeklyReport({ force, week, asOf, policy });
    const text =
      format === 'json'
        ? `${JSON.stringify(report)}\n`
        : format === 'csv'
          ? weeklyReportCsv(report)
          : weeklyReportHtml(report);
    io.stdout.write(text);
    return 0;
  } finally {
    await store.close();
  }
}
