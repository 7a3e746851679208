import { type CommandIo, choiceFlag, instantFlag, parseFlags, required } from '@callmon/config';
import { formatUtc } from '@callmon/events';
import { describeCounts, replayLive } from './live-replay.ts';
import { openNdjson, readNdjsonLines } from './ndjson-source.ts';
import { loadPolicy } from './policy-file.ts';

export const LIVE_HELP = `Usage: callmon live --file PATH|- --force F --as-of ISO [--format json] [--policy FILE]

Replay an NDJSON file of events through the live engine and print the live snapshot
(metrics.md §8) as of --as-of on stdout. The whole file is accepted and de-duplicated as
ingestion would (first copy of each (force, id) wins); the accepted events of --force
dated at or before --as-of are fed to the engine in file order; its clock then moves to
--as-of. Invalid lines are skipped and counted on stderr.

Options:
  --file PATH|-    NDJSON events (- for standard input)
  --force F        force code, e.g. northants
  --as-of ISO      evaluation instant with a zone, e.g. 2024-02-19T22:00:00Z
  --format json    output format (json, the default and only one)
  --policy FILE    force policy file (JSON); default uk-default-v1
  --help           this text
`;

export async function liveCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseFlags(argv, {
    file: { type: 'string' },
    force: { type: 'string' },
    'as-of': { type: 'string' },
    format: { type: 'string', default: 'json' },
    policy: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(LIVE_HELP);
    return 0;
  }
  const file = required(values.file, 'file');
  const force = required(values.force, 'force');
  const asOf = instantFlag(required(values['as-of'], 'as-of'), 'as-of');
  choiceFlag(values.format ?? 'json', 'format', ['json'] as const);
  const policy = await loadPolicy(values.policy);

  const { snapshot, counts } = await replayLive(readNdjsonLines(openNdjson(file)), {
    force,
    asOf,
    policy,
  });
  io.stdout.write(`${JSON.stringify(snapshot)}\n`);
  io.stderr.write(
    `callmon live: ${describeCounts(counts)} for ${force} up to ${formatUtc(asOf)}\n`,
  );
  return 0;
}
