import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AlertEntry,
  attachLiveChannel,
  embeddedLiveFeed,
  kafkaLiveFeed,
  type LiveBoard,
  type LiveChannel,
  type LiveFeed,
  publishLiveFeed,
  type SnapshotMessage,
} from '@callmon/api/live';
import { signToken } from '@callmon/auth';
import { Policy } from '@callmon/compliance';
import { parseEvent } from '@callmon/events';
import { LiveBus, LiveState } from '@callmon/ingest';
import { createKafka, EventPublisher, ensureTopics } from '@callmon/queue';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The distributed mode's live fan-out over a real Kafka broker: the ingest side publishes
 * its live engines' boards and alerts to a live topic; two api nodes, each reading the
 * whole topic, serve socket.io clients the same view.
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
let publisher: EventPublisher;
let unpublish: () => void;
const nodes: Node[] = [];
const clients: Socket[] = [];

async function apiNode(): Promise<Node> {
  const feed = await kafkaLiveFeed({
    brokers,
    topic,
    groupId: `callmon-api-live-test-${randomUUID()}`,
    log: { warn() {} },
  });
  const server = createServer();
  const channel = attachLiveChannel(server, {
    feed,
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

function client(node: Node): Socket {
  const token = signToken(
    { subject: 'sgt.one', role: 'supervisor', forces: ['northants'], ttlMs: 600_000 },
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

function next<T>(socket: Socket, name: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${name} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once(name, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

beforeAll(async () => {
  await ensureTopics(createKafka({ brokers, clientId: 'callmon-test-admin' }), [
    { topic, partitions: 3 },
  ]);
  publisher = await EventPublisher.connect({ brokers, topic });
  const bus = new LiveBus();
  live = new LiveState(Policy.ukDefault(), bus, T0);
  unpublish = publishLiveFeed(embeddedLiveFeed({ bus, engines: live.engines }), publisher);
  nodes.push(await apiNode(), await apiNode());
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
});

describe('live fan-out over the live topic', () => {
  it('every api node delivers the same breach and the same window update', async () => {
    const sockets = nodes.map(client);
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
