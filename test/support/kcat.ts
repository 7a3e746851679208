// kcat (librdkafka's command-line client, from Debian's `kcat` package): a Kafka client we
// did not write, to produce and read topics independently of kafkajs and of our code.
import { execFileSync, spawn } from 'node:child_process';

export const KCAT = process.env.KCAT ?? 'kcat';

/** One message as `kcat -C -J` prints it. */
export interface KcatMessage {
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Every message of a topic, from the beginning to the current end of each partition. */
export function readTopic(brokers: string, topic: string): KcatMessage[] {
  const out = execFileSync(KCAT, ['-b', brokers, '-C', '-t', topic, '-J', '-e', '-q'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as KcatMessage);
}

/**
 * Produce NDJSON lines with kcat, one message per line, each keyed by the text before the
 * first `key\t` separator (kcat's `-K`). Resolves when kcat has delivered them all.
 */
export function produceWithKcat(
  brokers: string,
  topic: string,
  keyedLines: readonly { key: string; line: string }[],
): Promise<void> {
  for (const { key, line } of keyedLines) {
    if (key.includes('\t') || line.includes('\n')) throw new Error(`unproducible line ${line}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(
      KCAT,
      [
        '-b',
        brokers,
        '-P',
        '-t',
        topic,
        '-K',
        '\t',
        // librdkafka's idempotent producer: retries never duplicate or reorder.
        '-X',
        'enable.idempotence=true',
        '-X',
        'linger.ms=5',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`kcat -P exited ${code}: ${stderr.slice(-2000)}`));
    });
    child.stdin.end(keyedLines.map(({ key, line }) => `${key}\t${line}\n`).join(''));
  });
}

/** Whether kcat is installed (CI installs Debian's package; see .ci/run). */
export function hasKcat(): boolean {
  try {
    execFileSync(KCAT, ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
