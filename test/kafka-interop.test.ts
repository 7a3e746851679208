import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '@callmon/simulator';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { callmon, dumpStore, kafkaInit, summaryOf } from './support/callmon-cli.ts';
import { hasKcat, produceWithKcat, readTopic } from './support/kcat.ts';

/**
 * Interop: events produced by a client we did not write (kcat, on librdkafka) are ingested
 * exactly. The reference is the same lines ingested from a file by `callmon ingest --file`,
 * a path that involves no Kafka at all: same counts, same stored events, same figures.
 */

const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const skip = Boolean(process.env.CALLMON_SKIP_KAFKA) || brokers === '';
const WEEK = '2024-W08';
const AS_OF = '2024-03-01T00:00:00Z';

describe.skipIf(skip)('events produced by kcat are ingested exactly', () => {
  const run = randomUUID().slice(0, 8);
  const topic = `callmon.test.interop.${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'callmon-interop-'));
  const forces = ['northants', 'dyfed-powys'];
  // Two forces (two keys), with the data-faults scenario's malformed, duplicated,
  // conflicting and late lines, interleaved in delivery order as a control room sends them.
  const lines = forces
    .flatMap((force, i) =>
      [
        ...simulate({
          seed: 21 + i,
          scenario: 'data-faults',
          force,
          start: '2024-02-19T00:00:00Z',
          days: 2,
        }),
      ].map((line) => ({ key: force, ...line })),
    )
    .sort((a, b) => a.deliverAt - b.deliverAt);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const admin = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, `${topic}.live`] }).catch(() => {});
    await admin.deleteGroups([`callmon-interop-${run}`]).catch(() => {});
    await admin.disconnect();
  });

  it('kcat is installed (CI installs Debian package kcat)', () => {
    expect(hasKcat()).toBe(true);
  });

  it('same counts, events and figures as ingesting the same lines from a file', async () => {
    kafkaInit(brokers, topic, 4);
    await produceWithKcat(brokers, topic, lines);
    // What kcat wrote, as the broker holds it: every line once, keyed by its force.
    const onTopic = readTopic(brokers, topic);
    expect(onTopic).toHaveLength(lines.length);
    expect(onTopic.map((m) => `${m.key}\t${m.payload}`).sort()).toEqual(
      lines.map(({ key, line }) => `${key}\t${line}`).sort(),
    );

    const fromKafka = join(dir, 'kafka');
    const consumed = await callmon([
      'ingest',
      '--kafka',
      brokers,
      '--topic',
      topic,
      '--group',
      `callmon-interop-${run}`,
      '--data-dir',
      fromKafka,
      '--exit-when-idle',
      '3',
      '--summary',
      'json',
    ]);
    expect(consumed.status, consumed.stderr.slice(-3000)).toBe(0);

    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${lines.map(({ line }) => line).join('\n')}\n`);
    const fromFile = join(dir, 'file');
    const reference = await callmon([
      'ingest',
      '--file',
      file,
      '--data-dir',
      fromFile,
      '--summary',
      'json',
    ]);
    expect(reference.status, reference.stderr).toBe(0);

    const expected = summaryOf(reference);
    expect(expected.accepted).toBeGreaterThan(5000);
    expect(expected.rejected).toBeGreaterThan(0); // the scenario's broken lines
    expect(summaryOf(consumed)).toEqual(expected);
    for (const force of forces) {
      const got = dumpStore(fromKafka, force, WEEK, AS_OF);
      const want = dumpStore(fromFile, force, WEEK, AS_OF);
      expect(got.count, force).toBeGreaterThan(1000);
      expect(got.events, force).toEqual(want.events);
      expect(got.report, force).toEqual(want.report);
    }
  }, 240_000);
});
