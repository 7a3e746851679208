import { PolicyError } from '@callmon/compliance';
import { type CommandIo, ConfigError, UsageError } from '@callmon/config';
import { COMMANDS } from './commands.ts';
import { runWithStdinMoved } from './stdin-guard.ts';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`,
  );
  return `Usage: callmon <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`callmon <command> --help\` for a command's options.\n`;
}

const FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EROFS']);

/** The `callmon` CLI: returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`callmon: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(
        `callmon ${name}: ${error.message}\nRun \`callmon ${name} --help\` for usage.\n`,
      );
      return 2;
    }
    if (error instanceof PolicyError || error instanceof ConfigError) {
      io.stderr.write(`callmon ${name}: ${error.message}\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    // A missing or unusable file or folder named by the user (e.g. --data-dir under a file).
    if (FILE_ERRORS.has(code ?? '')) {
      io.stderr.write(`callmon ${name}: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

/**
 * The `callmon` process: runs `argv` with the process's own streams and sets its exit code.
 * A store command whose stdin may carry data first moves it off fd 0 (stdin-guard.ts).
 */
export async function runCli(argv: string[]): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    const moved = await runWithStdinMoved(argv);
    process.exitCode =
      moved ?? (await main(argv, { stdout: process.stdout, stderr: process.stderr }));
  } catch (error) {
    process.stderr.write(
      `callmon: unexpected failure: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exitCode = 1;
  }
}

// Run when executed directly (`node --import tsx services/cli/src/main.ts …`); `pnpm
// callmon` starts through services/cli/bin/callmon.mjs, which calls runCli.
if (import.meta.url === `file://${process.argv[1]}`) await runCli(process.argv.slice(2));
