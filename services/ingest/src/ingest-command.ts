import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type CommandIo, choiceFlag, loadConfig, parseFlags, required } from '@callmon/config';
import { openStore } from '@callmon/store';
import { createLog } from './log.ts';
import { isBlank, openNdjson, readNdjsonLines } from './ndjson-source.ts';
import { type IngestCounts, IngestPipeline } from './pipeline.ts';
import { Progress } from './progress.ts';
import { systemClock } from './system-clock.ts';

export const INGEST_HELP = `Usage: callmon ingest --file PATH|- [--data-dir DIR] [--summary json]

Ingest an NDJSON file of events (docs/events.md) into the store, then exit. Every line is
accounted for: accepted, duplicate (same id, same content as an event already stored),
conflict (same id, other content) or rejected with a reason; rejected lines, duplicates
and conflicts are stored with their reason for audit. Blank lines are skipped. Ingesting
the same file again accepts nothing new.

Options:
  --file PATH|-     NDJSON events (- for standard input)
  --data-dir DIR    embedded store folder (default ./data, env CALLMON_DATA_DIR)
  --summary json    print {"accepted":N,"duplicates":N,"conflicts":N,"rejected":N}
                    as the last line of standard output
  --help            this text
`;

export function summaryLine(counts: IngestCounts): string {
  return JSON.stringify({
    accepted: counts.accepted,
    duplicates: counts.duplicates,
    conflicts: counts.conflicts,
    rejected: counts.rejected,
  });
}

export async function ingestCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    file: { type: 'string' },
    'data-dir': { type: 'string' },
    summary: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(INGEST_HELP);
    return 0;
  }
  const file = required(values.file, 'file');
  if (values.summary !== undefined) choiceFlag(values.summary, 'summary', ['json'] as const);
  const config = loadConfig({ overrides: { dataDir: values['data-dir'] } });
  const log = createLog(config.logLevel === 'info' ? 'warn' : config.logLevel, 'ingest');
  const size = file === '-' ? undefined : (await stat(file)).size;
  const source = file === '-' ? 'stdin' : resolve(file);

  const store = await openStore(
    config.clickhouseUrl === undefined
      ? { dataDir: config.dataDir }
      : {
          url: config.clickhouseUrl,
          username: config.clickhouseUser,
          password: config.clickhousePassword,
          database: config.clickhouseDatabase,
        },
  );
  const pipeline = new IngestPipeline({
    store,
    log,
    clock: systemClock,
    batchRows: config.batchRows,
  });
  const progress = new Progress(process.stderr, size);
  let bytes = 0;
  let lines = 0;
  try {
    for await (const { line, bytes: content } of readNdjsonLines(openNdjson(file))) {
      bytes += content.length + 1;
      if (isBlank(content)) continue;
      lines++;
      await pipeline.offer({
        bytes: content,
        position: { kind: 'file', name: source, partition: 0, offset: line },
        arrivedAt: systemClock.now(),
      });
      if ((lines & 1023) === 0) progress.update(bytes, lines);
    }
    await pipeline.flush();
  } finally {
    progress.done();
    await store.close();
  }
  const counts = pipeline.counts;
  const reasons = Object.entries(counts.rejectedByReason)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  io.stderr.write(
    `callmon ingest: ${lines} lines from ${source} into ${store.location}: ${counts.accepted} accepted, ` +
      `${counts.duplicates} duplicates, ${counts.conflicts} conflicts, ${counts.rejected} rejected` +
      `${reasons ? ` (${reasons})` : ''}\n`,
  );
  if (values.summary === 'json') io.stdout.write(`${summaryLine(counts)}\n`);
  return 0;
}
