import { type ParseArgsConfig, parseArgs } from 'node:util';
import { parseEventTime } from '@callmon/events';

/** A command-line mistake: the CLI prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse a command's flags strictly: unknown flags, missing values and stray arguments
 * are usage errors naming the flag, never silently ignored.
 */
export function parseFlags<O extends Options>(
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify .*$/s, '.'));
  }
}

/** A required flag's value, or a usage error naming it. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

/** An ISO 8601 instant with an explicit zone, as UTC ms. */
export function instantFlag(value: string, flag: string): number {
  const parsed = parseEventTime(value);
  if (!parsed.ok) {
    throw new UsageError(
      `--${flag} must be an ISO 8601 instant with a zone, e.g. 2024-02-19T21:00:00Z (${parsed.detail})`,
    );
  }
  return parsed.ms;
}

/** A whole number within bounds. */
export function integerFlag(value: string, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^-?\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}`);
  }
  return number;
}

export function choiceFlag<T extends string>(
  value: string,
  flag: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag} must be one of ${choices.join(', ')} (got "${value}")`);
  }
  return value as T;
}
