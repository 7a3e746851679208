// A breach reaches the live bus as soon as its chunk is decided, not once the chunk is
// stored: the store write is not on the way from an event to its breach. What stays
// behind the write is the commit (offsets move only once the chunk is durable) and the
// restore of a force new to this member (the store must hold everything before it). A real
// broker and a real chDB store whose inserts are held back at a gate.
import { type LiveAlert, Policy } from '@callmon/compliance';
import { formatUtc } from '@callmon/events';
import { createLog, KafkaIngest } from '@callmon/ingest';
import type { Store } from '@callmon/store';
import { openTestStore, type TestStore } from '@callmon/store/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testTopic } from './support/kafka-topic.ts';
import { aroundWrites } from './support/store-writes.ts';
import { sleep, waitFor } from './support/wait.ts';

const skip = Boolean(process.env.CALLMON_SKIP_KAFKA);
const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';

describe.skipIf(skip)('a Kafka ingest publishes a breach before its chunk is stored', () => {
  const kafka = testTopic(brokers, 'live-first');
  const { topic, groupId, admin, producer } = kafka;
  let test: TestStore;
  let ingest: KafkaIngest | undefined;
  /** While set, every insert waits for it: the store is slow, not failing. */
  let gate: Promise<void> | undefined;
  let openGate = () => {};
  let heldWrites = 0;

  const gatedStore = (store: Store) =>
    aroundWrites(store, async (write) => {
      if (gate !== undefined) {
        heldWrites++;
        await gate;
      }
      return write();
    });

  function closeGate() {
    gate = new Promise((resolve) => {
      openGate = () => {
        gate = undefined;
        resolve();
      };
    });
  }

  async function committed(): Promise<number> {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Math.max(0, Number(offsets!.partitions[0]!.offset));
  }

  /** A 999 call presented 15 s ago and still ringing: past its 10 s target on arrival. */
  async function lateCall(force: string, call: string): Promise<number> {
    const [meta] = await producer.send({
      topic,
      messages: [
        {
          key: force,
          value: JSON.stringify({
            v: 1,
            id: `${call}-p`,
            type: 'call.presented',
            force,
            at: formatUtc(Date.now() - 15_000),
            call,
            channel: '999',
          }),
        },
      ],
    });
    return Number(meta!.baseOffset);
  }

  const breaches = new Map<string, number>();

  beforeAll(async () => {
    await kafka.create(1);
    test = await openTestStore();
    ingest = await KafkaIngest.start({
      brokers,
      topic,
      groupId,
      store: gatedStore(test.store),
      log: createLog('silent'),
      clock: { now: () => Date.now() },
      policy: Policy.ukDefault(),
      batchRows: 100,
    });
    ingest.bus.on('alert', (alert: LiveAlert) => {
      if (alert.kind === 'breach') breaches.set(`${alert.force}/${alert.item}`, Date.now());
    });
  });

  afterAll(async () => {
    openGate();
    await ingest?.stop();
    await kafka.cleanup();
    await test?.cleanup();
  });

  it('a force live here: the breach comes while the write is held; the commit waits for it', async () => {
    // The force's first chunk, stored and committed: its engine is restored and live.
    const first = await lateCall('kent', 'k1');
    await waitFor(
      'the first chunk to be committed',
      async () => (await committed()) > first,
      30_000,
      50,
    );
    expect(breaches.has('kent/k1')).toBe(true);

    closeGate();
    const offset = await lateCall('kent', 'k2');
    await waitFor(
      'the breach of k2 while its write is held',
      () => breaches.has('kent/k2'),
      30_000,
      50,
    );
    expect(heldWrites).toBeGreaterThan(0);
    expect(await committed(), 'nothing committed before the write').toBe(offset);
    expect(await test.store.countEvents({ force: 'kent' })).toBe(1);

    openGate();
    await waitFor(
      'k2 to be committed once stored',
      async () => (await committed()) > offset,
      30_000,
      50,
    );
    expect(await test.store.countEvents({ force: 'kent' })).toBe(2);
  }, 60_000);

  it('a force new here: its first chunk waits for the write, then the restore, then the breach', async () => {
    closeGate();
    const held = heldWrites;
    const offset = await lateCall('essex', 'e1');
    await waitFor('the write of e1 to be held', () => heldWrites > held, 30_000, 50);
    // Applied early, the breach would be here within a few hundred milliseconds.
    await sleep(3000);
    expect(breaches.has('essex/e1'), 'no restore before the store holds the chunk').toBe(false);
    expect(await committed()).toBe(offset);

    openGate();
    await waitFor('the breach of e1 once stored', () => breaches.has('essex/e1'), 30_000, 50);
    await waitFor('e1 to be committed', async () => (await committed()) > offset, 30_000, 50);
    expect(ingest!.metrics().restoredForces).toBe(2);
  }, 60_000);
});
