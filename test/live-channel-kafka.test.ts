import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Acknowledgement,
  type AlertEntry,
  attachLiveChannel,
  embeddedLiveFeed,
  kafkaLiveFeed,
  type LiveBoard,
  type LiveChannel,
  type LiveFeed,
  publishLiveFeed,
  type Reply,
  type SnapshotMessage,
} from '@callmon/api/live';
import { signToken } from '@callmon/auth';
import { Policy } from '@callmon/compliance';
import { parseEvent } from '@callmon/events';
import { LiveBus, LiveState } from '@callmon/ingest';
import { createKafka, EventPublisher, ensureTopics } from '@callmon/queue';
import { type AcknowledgementRecord, acknowledgementPrecedes } from '@callmon/store';
import { openRawClient, openTestStore, type TestStore } from '@callmon/store/testing';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nextMessage } from './support/socket.ts';

/**
 * The distributed mode's live fan-out over a real Kafka broker: the ingest side publishes
 * its live engines' boards and alerts to a live topic; two api nodes, each reading the
 * whole topic, serve socket.io clients the same view. Both nodes record acknowledgements
 * in one real chDB store and read each other's from it, as `callmon api --kafka` nodes
 * on one ClickHouse do.
 */

const brokers = inject('kafkaBrokers') ?? process.env.KAFKA_BROKERS ?? '';
const topic = `callmon.live.test-${randomUUID().slice(0, 8)}`;
const SECRET = 'live-channel-kafka-test-secret-long-enough';
const T0 = Date.parse('2024-02-19T21:00:00.000Z');

function event(fields: Record<string, unknown>) {
  const parsed = parseEvent(JSON.stringify({ v: 1, force: 'northants', ...fields }));
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.event;
}

interface Node {
  feed: LiveFeed & { close(): Promise<void> };
  server: Server;
  channel: LiveChannel;
  url: string;
}

let live: LiveState;
let test: TestStore;
let publisher: EventPublisher;
let unpublish: () => void;
const nodes: Node[] = [];
const clients: Socket[] = [];

async function apiNode(name: string): Promise<Node> {
  const feed = await kafkaLiveFeed({
    brokers,
    topic,
    groupId: `callmon-api-live-test-${randomUUID()}`,
    log: { warn() {} },
  });
  const server = createServer();
  const channel = attachLiveChannel(server, {
    feed,
    store: test.store,
    node: name,
    pollAcknowledgementsMs: 200,
    tokenSecret: SECRET,
    clock: { now: () => Date.now() },
    log: { info() {}, warn() {} },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    feed,
    server,
    channel,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
}

function client(node: Node, subject = 'sgt.one'): Socket {
  const token = signToken(
    { subject, role: 'supervisor', forces: ['northants'], ttlMs: 600_000 },
    SECRET,
    Date.now(),
  );
  const socket = connect(node.url, {
    auth: { token, force: 'northants' },
    transports: ['websocket'],
    reconnection: false,
  });
  clients.push(socket);
  return socket;
}

const next = <T>(socket: Socket, name: string, timeoutMs = 10_000) =>
  nextMessage<T>(socket, name, timeoutMs);

beforeAll(async () => {
  await ensureTopics(createKafka({ brokers, clientId: 'callmon-test-admin' }), [
    { topic, partitions: 3 },
  ]);
  publisher = await EventPublisher.connect({ brokers, topic });
  const bus = new LiveBus();
  live = new LiveState(Policy.ukDefault(), bus, T0);
  unpublish = publishLiveFeed(embeddedLiveFeed({ bus, engines: live.engines }), publisher);
  test = await openTestStore();
  nodes.push(await apiNode('api-a'), await apiNode('api-b'));
}, 60_000);

afterAll(async () => {
  for (const socket of clients) socket.disconnect();
  unpublish?.();
  for (const node of nodes) {
    await node.channel.close();
    await new Promise((resolve) => node.server.close(resolve));
    await node.feed.close();
  }
  await publisher?.close();
  await test?.cleanup();
});

describe('live fan-out over the live topic', () => {
  it('every api node delivers the same breach and the same window update', async () => {
    const sockets = nodes.map((node) => client(node));
    await Promise.all(sockets.map((socket) => next<SnapshotMessage>(socket, 'snapshot')));
    live.apply([
      event({
        id: 'c1-p',
        type: 'call.presented',
        at: new Date(T0).toISOString(),
        call: 'c1',
        channel: '999',
      }),
    ]);
    const alerts = sockets.map((socket) => next<AlertEntry>(socket, 'alert'));
    const windows = sockets.map((socket) => next<LiveBoard>(socket, 'window'));
    live.advanceTo(T0 + 10_001);
    live.publishSnapshots();
    await publisher.flush();
    const [first, second] = await Promise.all(alerts);
    expect(first).toEqual(second);
    expect(first?.alert).toMatchObject({ kind: 'breach', rule: 'call.unanswered', item: 'c1' });
    const boards = await Promise.all(windows);
    expect(boards[0]).toEqual(boards[1]);
    expect(boards[0]?.snapshot).toEqual(live.engines.get('northants')!.snapshot());
  });

  it('a screen joining later gets the latest board from the topic, with the breach', async () => {
    const late = client(nodes[1]!);
    const snapshot = await next<SnapshotMessage>(late, 'snapshot');
    expect(snapshot.board?.snapshot).toEqual(live.engines.get('northants')!.snapshot());
    expect(snapshot.alerts.map((entry) => entry.alert.item)).toEqual(['c1']);
  });

  it('a message that is neither a board nor an alert is skipped, and the feed goes on', async () => {
    const socket = client(nodes[0]!);
    await next(socket, 'snapshot');
    const alert = next<AlertEntry>(socket, 'alert');
    await publisher.publish({ key: 'northants', value: '{"type":"board","board":{}}' });
    await publisher.publish({ key: 'northants', value: 'not json' });
    live.apply([
      event({
        id: 'c2-p',
        type: 'call.presented',
        at: new Date(T0 + 5000).toISOString(),
        call: 'c2',
        channel: '999',
      }),
    ]);
    live.advanceTo(T0 + 15_001);
    await publisher.flush();
    expect((await alert).alert).toMatchObject({ kind: 'breach', item: 'c2' });
  });
});

/** Breach call `call` (presented at T0 + `offsetMs`) and wait for it on `socket`. */
async function breach(socket: Socket, call: string, offsetMs: number): Promise<AlertEntry> {
  const alert = new Promise<AlertEntry>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no breach of ${call}`)), 10_000);
    socket.on('alert', (entry: AlertEntry) => {
      if (entry.alert.kind !== 'breach' || entry.alert.item !== call) return;
      clearTimeout(timer);
      resolve(entry);
    });
  });
  live.apply([
    event({
      id: `${call}-p`,
      type: 'call.presented',
      at: new Date(T0 + offsetMs).toISOString(),
      call,
      channel: '999',
    }),
  ]);
  live.advanceTo(T0 + offsetMs + 10_001);
  await publisher.flush();
  return alert;
}

/** Poll until `check` passes (the nodes poll the store every 200 ms). */
async function eventually(check: () => void | Promise<void>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('acknowledgements shared by api nodes on one store', () => {
  it('an acknowledgement made on one node reaches the screens of the other', async () => {
    const [onA, onB] = [client(nodes[0]!, 'sgt.a'), client(nodes[1]!, 'sgt.b')];
    await Promise.all([next(onA, 'snapshot'), next(onB, 'snapshot')]);
    // Node b has the breach too (from the topic) before anyone presses.
    const onBToo = next<AlertEntry>(onB, 'alert');
    const entry = await breach(onA, 'c3', 20_000);
    expect((await onBToo).id).toBe(entry.id);
    const toldB = next<Acknowledgement>(onB, 'acknowledged', 5000);
    const reply = (await onA.emitWithAck('acknowledge', {
      force: 'northants',
      alert: entry.id,
    })) as Reply<{ acknowledgement: Acknowledgement }>;
    if (!reply.ok) throw new Error(reply.detail);
    expect(await toldB).toEqual(reply.acknowledgement);
    expect(reply.acknowledgement).toMatchObject({ by: 'sgt.a', alert: entry.id });
    const mine = (node: Node) =>
      node.channel.acknowledgements('northants').filter((held) => held.alert === entry.id);
    expect(mine(nodes[1]!)).toEqual([reply.acknowledgement]);
    // A press on node b now is answered with node a's acknowledgement.
    expect(await onB.emitWithAck('acknowledge', { force: 'northants', alert: entry.id })).toEqual({
      ok: true,
      acknowledgement: reply.acknowledgement,
    });
    // And a screen joining node b later gets it in its snapshot.
    const late = client(nodes[1]!, 'sgt.c');
    const snapshot = await next<SnapshotMessage>(late, 'snapshot');
    expect(snapshot.acknowledgements).toContainEqual(reply.acknowledgement);
  });

  it('simultaneous acknowledgements of one alert on two nodes: one stands everywhere', async () => {
    const raw = await openRawClient(test.options);
    try {
      for (let round = 0; round < 3; round++) {
        const [onA, onB] = [client(nodes[0]!, 'sgt.a'), client(nodes[1]!, 'sgt.b')];
        await Promise.all([next(onA, 'snapshot'), next(onB, 'snapshot')]);
        const call = `race-${round}`;
        const [entry] = await Promise.all([
          breach(onA, call, 30_000 + round * 20_000),
          new Promise<void>((resolve) =>
            onB.on('alert', (seen: AlertEntry) => seen.alert.item === call && resolve()),
          ),
        ]);
        const last = (socket: Socket) => {
          const seen: Acknowledgement[] = [];
          socket.on('acknowledged', (held: Acknowledgement) => {
            if (held.alert === entry!.id) seen.push(held);
          });
          return seen;
        };
        const [seenA, seenB] = [last(onA), last(onB)];
        const press = { force: 'northants', alert: entry!.id };
        const replies = await Promise.all([
          onA.emitWithAck('acknowledge', press),
          onB.emitWithAck('acknowledge', press),
        ]);
        for (const reply of replies) expect(reply).toMatchObject({ ok: true });

        // The one that stands, worked out here from every press the store holds.
        const result = await raw.query({
          query: `SELECT force, alert, kind, rule, item, subject, role,
                         toUnixTimestamp64Milli(at) AS at, node
                  FROM acknowledgements WHERE alert = {alert:String}`,
          query_params: { alert: entry!.id },
          format: 'JSONEachRow',
        });
        const presses = (await result.json<AcknowledgementRecord>()).map((row) => ({
          ...row,
          at: Number(row.at),
        }));
        expect(presses.length).toBeGreaterThanOrEqual(1);
        const first = presses.reduce((best, row) =>
          acknowledgementPrecedes(row, best) ? row : best,
        );
        const standing: Acknowledgement = {
          force: 'northants',
          alert: entry!.id,
          by: first.subject,
          role: first.role,
          at: first.at,
        };
        await eventually(() => {
          for (const node of nodes) {
            const held = node.channel
              .acknowledgements('northants')
              .filter((one) => one.alert === entry!.id);
            expect(held).toEqual([standing]);
          }
          // Every screen's latest word on the alert is the one that stands.
          expect(seenA.at(-1)).toEqual(standing);
          expect(seenB.at(-1)).toEqual(standing);
        });
        const listed = await test.store.listAcknowledgements({ force: 'northants', limit: 100 });
        expect(listed.filter((one) => one.alert === entry!.id)).toEqual([first]);
        for (const socket of [onA, onB]) socket.disconnect();
      }
    } finally {
      await raw.close();
    }
  });
});
