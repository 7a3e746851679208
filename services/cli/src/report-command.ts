import { CalendarError, isoWeekAfter, isoWeekWindow, type Policy } from '@callmon/compliance';
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
       callmon report refresh --force F --week YYYY-Www [--to YYYY-Www]
                              [--data-dir DIR] [--policy FILE]

Print a force's weekly report (metrics.md §7) from the stored events: ISO week YYYY-Www in
the policy's time zone, every call and incident classified as of --as-of (default: now).
json is the canonical object; csv has one figure per row; html is a printable page.

refresh stores the facts of each week from --week to --to (default: --week alone), so that
their weekly reports read those instead of the events while nothing stored since could
change them (the same report, faster; packages/store/README.md, Reports). Prints one JSON
line per week: {"week","stored","unchanged","items","ms"}; unchanged when the facts stored
before still hold (nothing read again); stored is false, and the exit status 1, when
events were stored for the week meanwhile (run it again). Schedule it after weeks close.

Options:
  --force F          force code, e.g. northants
  --week YYYY-Www    ISO week, e.g. 2024-W08
  --to YYYY-Www      refresh: the last week to refresh (default: --week)
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
  if (kind === 'refresh') return refreshCommand(rest, io);
  if (kind !== 'weekly') {
    throw new UsageError(`unknown report "${kind}"; available: weekly, refresh`);
  }
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
  weekFlag(week, 'week', policy);

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

/** `--flag`'s ISO week, checked against the calendar: its window in the policy's zone. */
function weekFlag(week: string, flag: string, policy: Policy) {
  try {
    return isoWeekWindow(week, policy.timezone);
  } catch (error) {
    if (error instanceof CalendarError) throw new UsageError(`--${flag}: ${error.message}`);
    throw error;
  }
}

/** `callmon report refresh`: the week facts of each week in a range, one line per week. */
async function refreshCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    force: { type: 'string' },
    week: { type: 'string' },
    to: { type: 'string' },
    'data-dir': { type: 'string' },
    policy: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(REPORT_HELP);
    return 0;
  }
  const force = required(values.force, 'force');
  const first = required(values.week, 'week');
  const config = loadConfig({ overrides: { dataDir: values['data-dir'] } });
  const policy = await loadPolicy(values.policy ?? config.policyFile);
  const from = weekFlag(first, 'week', policy).from;
  const last = values.to ?? first;
  if (weekFlag(last, 'to', policy).from < from) {
    throw new UsageError(`--to ${last} is before --week ${first}`);
  }
  const weeks: string[] = [];
  for (let week = first; ; week = isoWeekAfter(week, policy.timezone)) {
    weeks.push(week);
    if (week === last) break;
  }

  const store = await openStore(storeTarget(config));
  try {
    let unstored = 0;
    for (const week of weeks) {
      const begin = performance.now();
      const { stored, unchanged, items } = await store.refreshWeekFacts({ force, week, policy });
      if (!stored) unstored++;
      const ms = Math.round(performance.now() - begin);
      io.stdout.write(`${JSON.stringify({ week, stored, unchanged, items, ms })}\n`);
    }
    return unstored === 0 ? 0 : 1;
  } finally {
    await store.close();
  }
}
