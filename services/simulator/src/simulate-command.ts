import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { EVENTS_TOPIC, EventPublisher, parseBrokers } from '@callmon/queue';
import { liveFeed } from './live-feed.ts';
import { SCENARIO_DEFINITIONS, SCENARIOS } from './scenarios.ts';
import {
  resolveOptions,
  type SimulatedLine,
  type SimulateOptions,
  SimulatorOptionError,
  simulate,
} from './simulate.ts';
import { publishLines } from './simulate-kafka.ts';

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `Usage: callmon simulate [options]

Generate a simulated police control room's events as NDJSON (one event per line,
docs/events.md), in delivery order. The same options always give the same bytes.

Options:
  --seed N            random seed, an integer 0–4294967295 (default 1)
  --scenario NAME     one of the scenarios below (default normal)
  --start ISO         first instant, RFC 3339, e.g. 2024-02-19T00:00:00Z
                      (default 2024-02-19T00:00:00Z, a Monday; for
                      friday-night-surge 2024-02-23T12:00:00Z, a Friday noon)
  --days N            length of the period in days, fractions allowed (default 1)
  --force F           force code (default northants)
  --calls-999 N       999 calls a year (default 135000, a mid-sized force)
  --calls-101 N       101 calls a year (default 200000)
  --out PATH|-        write to a file, or - for standard output (default -)
  --kafka BROKERS     publish to Kafka instead (host:port[,host:port…]): one message
                      per event, key = force, idempotent producer; progress on
                      standard error; exit 1 if the brokers cannot be reached
  --topic T           the Kafka topic (default ${EVENTS_TOPIC}); it must exist
                      (callmon kafka init)
  --speed X           with --kafka: pace the events, simulated time running X times
                      real time (1 = real time); --start then defaults to now and
                      --days to for ever. Without it, publish as fast as possible
  -h, --help          show this help

Scenarios:
${SCENARIOS.map((name) => `  ${name.padEnd(20)}${SCENARIO_DEFINITIONS[name].description}`).join('\n')}
`;

const FLAGS = {
  seed: { type: 'string' },
  scenario: { type: 'string' },
  start: { type: 'string' },
  days: { type: 'string' },
  force: { type: 'string' },
  'calls-999': { type: 'string' },
  'calls-101': { type: 'string' },
  out: { type: 'string' },
  kafka: { type: 'string' },
  topic: { type: 'string' },
  speed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function numberFlag(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new UsageError(
      `--${flag} expects a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function seedFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new UsageError(
      `--seed expects an integer from 0 to 4294967295, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

/** Lines are written in chunks of about this many characters: one write per few hundred events. */
const CHUNK = 64 * 1024;

/**
 * `callmon simulate`: writes the simulation as NDJSON to a file or standard output.
 * Returns the exit code: 0 done (also when the reader of a pipe goes away), 1 the output
 * could not be written, 2 bad flags or values.
 */
export async function simulateCommand(argv: string[], io: CommandIo): Promise<number> {
  let options: SimulateOptions;
  let out: string;
  let kafka: KafkaTarget | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: FLAGS,
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    options = {
      seed: seedFlag(values.seed),
      scenario: values.scenario as SimulateOptions['scenario'],
      start: values.start,
      days: numberFlag('days', values.days),
      force: values.force,
      calls999PerYear: numberFlag('calls-999', values['calls-999']),
      calls101PerYear: numberFlag('calls-101', values['calls-101']),
    };
    // Check everything before creating the output file.
    resolveOptions(options);
    out = values.out ?? '-';
    if (out === '') throw new UsageError('--out expects a path, or - for standard output');
    kafka = kafkaTarget(values);
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof SimulatorOptionError ||
      (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      io.stderr.write(
        `callmon simulate: ${(error as Error).message}\nTry 'callmon simulate --help'.\n`,
      );
      return 2;
    }
    throw error;
  }

  if (kafka !== undefined) return publishCommand(options, kafka, io);
  const toFile = out !== '-';
  // A deep buffer lets the simulation run on while the previous chunks are written.
  const stream = toFile ? createWriteStream(out, { highWaterMark: 1 << 20 }) : io.stdout;
  try {
    await writeLines(simulate(options), stream);
    if (toFile) {
      stream.end();
      await once(stream, 'finish');
    } else if ((stream as Writable).writableNeedDrain) {
      // Let the last chunk reach the reader before the caller exits.
      await once(stream, 'drain');
    }
    return 0;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    // The reader went away (`callmon simulate | head`): nothing more to do, not a failure.
    if (e.code === 'EPIPE') return 0;
    io.stderr.write(
      `callmon simulate: cannot write ${toFile ? out : 'standard output'}: ${e.message}\n`,
    );
    if (toFile) (stream as Writable).destroy();
    return 1;
  }
}

interface KafkaTarget {
  brokers: string;
  topic: string;
  speed?: number;
}

function kafkaTarget(values: {
  kafka?: string;
  topic?: string;
  speed?: string;
  out?: string;
}): KafkaTarget | undefined {
  if (values.kafka === undefined) {
    for (const flag of ['topic', 'speed'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --kafka`);
    }
    return undefined;
  }
  if (values.out !== undefined) throw new UsageError('--out and --kafka exclude each other');
  try {
    parseBrokers(values.kafka);
  } catch (error) {
    throw new UsageError(`--kafka: ${(error as Error).message}`);
  }
  const topic = values.topic ?? EVENTS_TOPIC;
  if (topic === '') throw new UsageError('--topic expects a topic name');
  return { brokers: values.kafka, topic, speed: numberFlag('speed', values.speed) };
}

/** `simulate --kafka`: 0 all published and acknowledged, 1 Kafka failed. */
async function publishCommand(
  options: SimulateOptions,
  kafka: KafkaTarget,
  io: CommandIo,
): Promise<number> {
  const force = resolveOptions(options).force;
  let publisher: EventPublisher;
  try {
    publisher = await EventPublisher.connect({
      brokers: kafka.brokers,
      topic: kafka.topic,
      clientId: 'callmon-simulate',
    });
  } catch (error) {
    io.stderr.write(`callmon simulate: ${(error as Error).message}\n`);
    return 1;
  }
  const lines =
    kafka.speed === undefined ? simulate(options) : liveFeed({ ...options, speed: kafka.speed });
  const rate = (count: number, ms: number) => Math.round(count / Math.max(ms / 1000, 0.001));
  try {
    const published = await publishLines(lines, publisher, {
      force,
      progress: (acknowledged, ms, done) => {
        if (done) return;
        io.stderr.write(
          `callmon simulate: ${acknowledged} events published to ${kafka.topic} (${rate(acknowledged, ms)}/s)\n`,
        );
      },
    });
    await publisher.close();
    io.stderr.write(
      `callmon simulate: done, ${published} events published to ${kafka.topic} on ${kafka.brokers}\n`,
    );
    return 0;
  } catch (error) {
    await publisher.abort();
    io.stderr.write(`callmon simulate: ${(error as Error).message}\n`);
    return 1;
  }
}

/**
 * Writes `lines` as NDJSON in large chunks, waiting for 'drain' whenever the stream's
 * buffer is full, so memory stays bounded however fast the simulation runs. Rejects with
 * the stream's error (EPIPE included) as soon as it happens.
 */
export async function writeLines(
  lines: Iterable<SimulatedLine>,
  stream: NodeJS.WritableStream,
): Promise<void> {
  let failure: Error | null = null;
  const onError = (error: Error) => {
    failure ??= error;
  };
  stream.on('error', onError);
  try {
    let chunk = '';
    for (const { line } of lines) {
      chunk += `${line}\n`;
      if (chunk.length >= CHUNK) {
        await write(stream, chunk, () => failure);
        chunk = '';
      }
    }
    if (chunk !== '') await write(stream, chunk, () => failure);
  } finally {
    stream.off('error', onError);
    // Keep swallowing late errors (a second EPIPE) instead of crashing on them.
    if (failure !== null) stream.on('error', () => {});
  }
}

async function write(
  stream: NodeJS.WritableStream,
  chunk: string,
  failure: () => Error | null,
): Promise<void> {
  const before = failure();
  if (before !== null) throw before;
  // once() rejects if 'error' comes while waiting for 'drain'.
  if (!stream.write(chunk)) await once(stream, 'drain');
  const after = failure();
  if (after !== null) throw after;
}
