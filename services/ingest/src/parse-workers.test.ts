import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParseWorkers, parseWorkerCount, startParseWorkers } from './parse-workers.ts';

describe('parse worker count', () => {
  const cpus = availableParallelism();

  it('is what the configuration says, 0 included, for either source', () => {
    expect(parseWorkerCount(0)).toBe(0);
    expect(parseWorkerCount(3, 'file')).toBe(3);
    expect(parseWorkerCount(0, 'kafka')).toBe(0);
    expect(parseWorkerCount(2, 'kafka')).toBe(2);
  });

  it('defaults to one per CPU, at most two, for a file', () => {
    expect(parseWorkerCount(undefined)).toBe(Math.min(2, cpus));
    expect(parseWorkerCount(undefined, 'file')).toBe(Math.min(2, cpus));
  });

  it('defaults to one for Kafka, none on a single CPU (its thread decodes and evaluates too)', () => {
    expect(parseWorkerCount(undefined, 'kafka')).toBe(cpus > 1 ? 1 : 0);
  });
});

describe('starting parse workers for an ingest', () => {
  it('starts none for a server store, whatever the configuration (its rows are not batch files)', () => {
    expect(startParseWorkers(false, 2, 'file')).toBeUndefined();
    expect(startParseWorkers(false, undefined, 'kafka')).toBeUndefined();
  });

  it('starts none when the configuration says 0, and the configured number otherwise', () => {
    expect(startParseWorkers(true, 0, 'kafka')).toBeUndefined();
    const parser = startParseWorkers(true, 2, 'kafka');
    try {
      expect(parser).toBeInstanceOf(ParseWorkers);
      expect(parser?.count).toBe(2);
    } finally {
      parser?.close();
    }
  });
});

describe('parse workers started by the CLI launcher', () => {
  it('load the module the launcher names instead of bundling their own', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'callmon-prebuilt-worker-'));
    const module = join(folder, 'parse-worker.mjs');
    writeFileSync(module, "throw new Error('the prebuilt worker module was loaded');\n");
    const prebuilt = Symbol.for('callmon.parseWorkerModule');
    const global = globalThis as Record<symbol, unknown>;
    global[prebuilt] = pathToFileURL(module).href;
    const workers = new ParseWorkers(1);
    delete global[prebuilt];
    try {
      const line = new TextEncoder().encode('{}');
      const position = { kind: 'file' as const, name: 'x', partition: 0, offset: 1 };
      await expect(workers.parse([{ bytes: line, position, arrivedAt: 0 }], false)).rejects.toThrow(
        'the prebuilt worker module was loaded',
      );
    } finally {
      workers.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
