import { userInfo } from 'node:os';
import { parseTtl, ROLES, signToken } from '@callmon/auth';
import type { Clock } from '@callmon/compliance';
import {
  type CommandIo,
  choiceFlag,
  loadConfig,
  parseFlags,
  required,
  resolveTokenSecret,
  UsageError,
} from '@callmon/config';
import { systemClock } from '@callmon/ingest';

export const TOKEN_HELP = `Usage: callmon token create --role R --force F [--force F2 | --force F1,F2]
                            [--ttl D] [--subject NAME] [--data-dir DIR]

Print a signed access token for the API and the live dashboard on standard output.
The signing secret comes from CALLMON_TOKEN_SECRET, CALLMON_TOKEN_SECRET_FILE (or the
config file), else the one generated in the data folder; it is never printed.

Roles: supervisor (live), performance (reports), inspector (reports, audit), admin (all).

Options:
  --role R        ${ROLES.join(', ')}
  --force F       a force code the token covers; repeat or comma-separate for several;
                  * covers every force
  --ttl D         lifetime: 90s, 30m, 12h, 7d (default 12h, at most 366d)
  --subject NAME  who the token is for, recorded on acknowledgements (default: this user)
  --data-dir DIR  embedded store folder holding a generated secret (default ./data)
  --help          this text
`;

const DEFAULT_TTL = '12h';

export async function tokenCommand(
  argv: string[],
  io: CommandIo,
  clock: Clock = systemClock,
): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    io.stdout.write(TOKEN_HELP);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'create') throw new UsageError(`unknown action "${action}"; available: create`);
  const { values } = parseFlags(rest, {
    role: { type: 'string' },
    force: { type: 'string', multiple: true },
    ttl: { type: 'string', default: DEFAULT_TTL },
    subject: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(TOKEN_HELP);
    return 0;
  }
  const role = choiceFlag(required(values.role, 'role'), 'role', ROLES);
  const forces = (values.force ?? []).flatMap((value) => value.split(',')).map((f) => f.trim());
  if (forces.length === 0) throw new UsageError('--force is required');
  for (const force of forces) {
    if (!/^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$/.test(force)) {
      throw new UsageError(`--force "${force}" is not a force code (or * for every force)`);
    }
  }
  let ttlMs: number;
  try {
    ttlMs = parseTtl(values.ttl ?? DEFAULT_TTL);
  } catch (error) {
    throw new UsageError(`--ttl: ${(error as Error).message}`);
  }
  const subject = values.subject ?? defaultSubject();
  if (subject.length === 0 || subject.length > 200) {
    throw new UsageError('--subject must be 1 to 200 characters');
  }
  const config = loadConfig({ overrides: { dataDir: values['data-dir'] } });
  const secret = resolveTokenSecret(config);
  io.stdout.write(`${signToken({ subject, role, forces, ttlMs }, secret, clock.now())}\n`);
  return 0;
}

function defaultSubject(): string {
  try {
    return userInfo().username || 'callmon';
  } catch {
    return 'callmon';
  }
}
