import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs on standard error (standard output belongs to command results).
 * Events are never logged whole: they carry no personal data by contract, but raw
 * rejected lines might, so logs name positions and reasons only.
 */
export function createLog(level: string, name = 'callmon'): Logger {
  return pino({ name, level, base: { service: name } }, pino.destination({ fd: 2, sync: true }));
}
