import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Whether importing `module` (in a fresh node, as the CLI runs) loads the Kafka client. */
function loadsKafkaClient(module: string): boolean {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module';
       await import(${JSON.stringify(new URL(module, import.meta.url).href)});
       const loaded = Object.keys(createRequire(import.meta.url).cache);
       process.stdout.write(String(loaded.some((path) => path.includes('/kafkajs/'))));`,
    ],
    { cwd: import.meta.dirname, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout === 'true';
}

describe('the ingest command module', () => {
  it('loads the Kafka client only with the Kafka path (a file ingest starts without it)', () => {
    // The Kafka path itself does load it: what this test looks for is really there.
    expect(loadsKafkaClient('./kafka-ingest-command.ts')).toBe(true);
    expect(loadsKafkaClient('./ingest-command.ts')).toBe(false);
  });
});
