// Finds or starts the Kafka broker the tests talk to.
//
// - KAFKA_BROKERS set (comma-separated host:port): use it, never start or stop anything.
// - otherwise: `bash infra/local/kafka up` (a real single-node Apache Kafka 4.x on 127.0.0.1,
//   jars fetched from Maven Central by mvn on first use; see infra/local/README.md).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated bootstrap servers, provided by test/support/global-setup.ts. */
    kafkaBrokers: string;
  }
}

export interface KafkaEndpoint {
  /** Comma-separated host:port list, as for KAFKA_BROKERS. */
  brokers: string;
  /** True when ensureKafka started the broker, so the caller should stop it with stopKafka. */
  startedByUs: boolean;
}

export const KAFKA_SCRIPT = fileURLToPath(new URL('../../infra/local/kafka', import.meta.url));

/** First use downloads ~45 MB of jars with mvn; later starts take 5-20 s on a 2-core box. */
const UP_TIMEOUT_MS = 15 * 60_000;
const DOWN_TIMEOUT_MS = 2 * 60_000;

export async function ensureKafka(): Promise<KafkaEndpoint> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) return { brokers: fromEnv, startedByUs: false };
  if (process.env.CALLMON_USE_TESTCONTAINERS === '1') {
    throw new Error(
      'CALLMON_USE_TESTCONTAINERS=1: Testcontainers is not wired in this repo (no Docker here). ' +
        'Start a broker yourself and set KAFKA_BROKERS, or unset it to use infra/local/kafka.',
    );
  }
  const env = { ...process.env, KAFKA_START_TIMEOUT: process.env.KAFKA_START_TIMEOUT ?? '120' };
  const out = await runScript('up', env, UP_TIMEOUT_MS);
  const port = process.env.KAFKA_PORT ?? '9092';
  // 'kafka: up: ...' is printed only when this call started the JVM; an already running broker
  // ("already running", "not started by this script") is left for whoever started it.
  return { brokers: `127.0.0.1:${port}`, startedByUs: /^kafka: up:/m.test(out) };
}

export async function stopKafka(): Promise<void> {
  await runScript('down', process.env, DOWN_TIMEOUT_MS);
}

function runScript(command: 'up' | 'down', env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SCRIPT, command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const relay = (chunk: Buffer) => {
      out += chunk.toString();
      process.stderr.write(chunk);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `bash infra/local/kafka ${command} failed (${signal ?? `exit ${code}`}):\n${out.slice(-4000)}`,
          ),
        );
    });
  });
}
