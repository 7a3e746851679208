import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkerCount } from './parse-workers.ts';

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
