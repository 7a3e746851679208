import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Acknowledgement,
  type AcknowledgementStore,
  type AlertEntry,
  attachLiveChannel,
  embeddedLiveFeed,
  type LiveBoard,
  type LiveChannel,
  type Reply,
  type SnapshotMessage,
} from '@callmon/api/live';
import { signToken } from '@callmon/auth';
import { Policy } from '@callmon/compliance';
import { parseEvent } from '@callmon/events';
import { LiveBus, LiveState } from '@callmon/ingest';
import { openStore } from '@callmon/store';
import { openRawClient, openTestStore, type TestStore } from '@callmon/store/testing';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nextMessage } from './support/socket.ts';

/**
 * The socket.io live channel over a real HTTP server and real socket.io clients, fed by
 * real live engines (the embedded feed), recording acknowledgements in a real chDB store
 * (emptied before each test). Engine time is stepped by the test; the channel's wall
 * clock is the real one shifted by `skewMs`, so token expiry can be brought forward.
 */

const SECRET = 'live-channel-test-secret-of-enough-length';
const T0 = Date.parse('2024-02-19T21:00:00.000Z');
let skewMs = 0;
const wallClock = { now: () => Date.now() + skewMs };

function token(
  role: 'supervisor' | 'performance' | 'inspector' | 'admin',
  forces: string[],
  ttlMs = 3_600_000,
) {
  return signToken({ subject: `${role}.one`, role, forces, ttlMs }, SECRET, wallClock.now());
}

function event(fields: Record<string, unknown>) {
  const parsed = parseEvent(JSON.stringify({ v: 1, force: 'northants', ...fields }));
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.event;
}

const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

let server: Server;
let channel: LiveChannel;
let bus: LiveBus;
let live: LiveState;
let url: string;
const clients: Socket[] = [];
let test: TestStore;
let raw: Awaited<ReturnType<typeof openRawClient>>;

beforeAll(async () => {
  test = await openTestStore();
  raw = await openRawClient(test.options);
});
afterAll(async () => {
  await raw?.close();
  await test?.cleanup();
});

/** A channel on `server` over the current engines, recording in `store`. */
function attach(store: AcknowledgementStore = test.store) {
  return attachLiveChannel(server, {
    feed: embeddedLiveFeed({ bus, engines: live.engines }),
    store,
    node: 'node-under-test',
    tokenSecret: SECRET,
    clock: wallClock,
    log: { info() {}, warn() {} },
  });
}

/** Every stored press (not only those that stand), straight from the table. */
async function storedPresses() {
  const result = await raw.query({
    query:
      'SELECT force, alert, kind, rule, item, subject, role, toUnixTimestamp64Milli(at) AS at, node FROM acknowledgements ORDER BY at, subject',
    format: 'JSONEachRow',
  });
  return (await result.json<Record<string, string>>()).map((row) => ({
    ...row,
    at: Number(row.at),
  }));
}

beforeEach(async () => {
  await raw.command({ query: 'TRUNCATE TABLE acknowledgements' });
  skewMs = 0;
  bus = new LiveBus();
  live = new LiveState(Policy.ukDefault(), bus, T0);
  live.apply([
    event({ id: 'c1-p', type: 'call.presented', at: at(0), call: 'c1', channel: '999' }),
    event({ id: 'c2-p', type: 'call.presented', at: at(1000), call: 'c2', channel: '101' }),
    event({ id: 'c3-p', type: 'call.presented', at: at(2000), call: 'c3', channel: '999' }),
    event({ id: 'c3-a', type: 'call.answered', at: at(6000), call: 'c3' }),
    event({
      id: 'i1-o',
      type: 'incident.opened',
      at: at(0),
      incident: 'i1',
      grade: 1,
      area: 'urban',
    }),
  ]);
  live.advanceTo(T0 + 8000);
  await serve();
});

/** A new http server and channel (socket.io keeps its hold on a server it was attached to). */
async function serve(store: AcknowledgementStore = test.store) {
  server = createServer();
  channel = attach(store);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop() {
  for (const socket of clients.splice(0)) socket.disconnect();
  await channel.close();
  await new Promise((resolve) => server.close(resolve));
}

afterEach(stop);

function client(auth: Record<string, unknown>, reconnection = false): Socket {
  const socket = connect(url, {
    auth,
    transports: ['websocket'],
    reconnection,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
  });
  clients.push(socket);
  return socket;
}

const next = <T>(socket: Socket, name: string, timeoutMs = 2000) =>
  nextMessage<T>(socket, name, timeoutMs);

async function refusalOf(auth: Record<string, unknown>) {
  const socket = client(auth);
  const error = await next<Error & { data?: unknown }>(socket, 'connect_error');
  return error.data;
}

describe('handshake: the token is checked before any data flows', () => {
  it('no token is refused with 401', async () => {
    expect(await refusalOf({})).toMatchObject({ status: 401, reason: 'missing' });
    expect(await refusalOf({ force: 'northants' })).toMatchObject({ status: 401 });
  });

  it('a forged, malformed or expired token is refused with 401', async () => {
    const forged = signToken(
      { subject: 'x', role: 'admin', forces: ['*'], ttlMs: 60_000 },
      'some-other-secret-of-enough-length-to-sign',
      Date.now(),
    );
    expect(await refusalOf({ token: forged, force: 'northants' })).toMatchObject({
      status: 401,
      reason: 'bad_signature',
    });
    expect(await refusalOf({ token: 'nonsense' })).toMatchObject({
      status: 401,
      reason: 'malformed',
    });
    const shortLived = token('supervisor', ['northants'], 1000);
    skewMs = 5000;
    expect(await refusalOf({ token: shortLived, force: 'northants' })).toMatchObject({
      status: 401,
      reason: 'expired',
    });
  });

  it('a role without the live capability is refused with 403, with or without a force', async () => {
    expect(
      await refusalOf({ token: token('performance', ['northants']), force: 'northants' }),
    ).toMatchObject({
      status: 403,
      reason: 'role_not_allowed',
    });
    expect(await refusalOf({ token: token('inspector', ['*']) })).toMatchObject({
      status: 403,
      reason: 'role_not_allowed',
    });
  });

  it('a token for another force cannot join this force: 403 in the handshake and on join', async () => {
    expect(
      await refusalOf({ token: token('supervisor', ['wmp']), force: 'northants' }),
    ).toMatchObject({
      status: 403,
      reason: 'force_not_covered',
    });
    const socket = client({ token: token('supervisor', ['wmp']) });
    await next(socket, 'connect');
    const reply = await socket.emitWithAck('join', { force: 'northants' });
    expect(reply).toMatchObject({ ok: false, status: 403, reason: 'force_not_covered' });
  });

  it('a malformed force is a 400 naming the field', async () => {
    expect(await refusalOf({ token: token('admin', ['*']), force: '../etc' })).toMatchObject({
      status: 400,
      detail: expect.stringContaining('auth.force'),
    });
  });
});

describe('joining a force room', () => {
  it('the snapshot on join is the live engine’s §8 snapshot and its lists', async () => {
    const socket = client({ token: token('supervisor', ['northants']), force: 'northants' });
    const message = await next<SnapshotMessage>(socket, 'snapshot');
    const engine = live.engines.get('northants')!;
    expect(message.force).toBe('northants');
    expect(message.board?.snapshot).toEqual(engine.snapshot());
    expect(message.board?.now).toBe(T0 + 8000);
    expect(message.board?.ringing.items.map((call) => call.call)).toEqual(['c1', 'c2']);
    expect(message.board?.unattended.items.map((incident) => incident.incident)).toEqual(['i1']);
    expect(message.board?.targets['999']).toEqual({ withinMs: 10_000, ratio: 0.9 });
  });

  it('the forces list names only the forces the token covers', async () => {
    const mine = client({ token: token('supervisor', ['wmp']) });
    expect(await next(mine, 'forces')).toEqual([]);
    const all = client({ token: token('admin', ['*']) });
    expect(await next(all, 'forces')).toEqual(['northants']);
  });

  it('a reconnect gets a full snapshot again, equal to the first', async () => {
    const socket = client({ token: token('supervisor', ['northants']), force: 'northants' }, true);
    const first = await next<SnapshotMessage>(socket, 'snapshot');
    live.advanceTo(T0 + 10_001); // c1 breaches: the feed now has an alert to restore too
    live.publishSnapshots();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const beforeDrop = channel.acknowledgements('northants');
    socket.io.engine.close(); // the transport drops; the client reconnects by itself
    const again = await next<SnapshotMessage>(socket, 'snapshot');
    expect(again.board?.snapshot).toEqual(live.engines.get('northants')!.snapshot());
    expect(again.board?.snapshot.as_of).not.toBe(first.board?.snapshot.as_of);
    expect(again.alerts.map((entry) => entry.alert.item)).toEqual(['c1']);
    expect(again.acknowledgements).toEqual(beforeDrop);
    // Nothing moved since: a second drop restores exactly the same snapshot.
    socket.io.engine.close();
    expect(await next<SnapshotMessage>(socket, 'snapshot')).toEqual(again);
  });
});

describe('pushes', () => {
  it('a breach reaches the room at once, with a clear when the call is answered', async () => {
    const socket = client({ token: token('supervisor', ['northants']), force: 'northants' });
    await next(socket, 'snapshot');
    const breach = next<AlertEntry>(socket, 'alert');
    const sentAt = performance.now();
    live.advanceTo(T0 + 10_001);
    const entry = await breach;
    expect(performance.now() - sentAt).toBeLessThan(100);
    expect(entry.alert).toMatchObject({
      kind: 'breach',
      rule: 'call.unanswered',
      item: 'c1',
      deadline: T0 + 10_000,
    });
    const cleared = next<AlertEntry>(socket, 'alert');
    live.apply([event({ id: 'c1-a', type: 'call.answered', at: at(12_000), call: 'c1' })]);
    live.advanceTo(T0 + 12_000);
    expect((await cleared).alert).toMatchObject({ kind: 'cleared', item: 'c1', wasBreached: true });
  });

  it('a room gets no breaches of other forces', async () => {
    live.apply([
      event({
        id: 'w1-p',
        type: 'call.presented',
        at: at(0),
        call: 'w1',
        channel: '999',
        force: 'wmp',
      }),
    ]);
    const socket = client({ token: token('supervisor', ['northants']), force: 'northants' });
    await next(socket, 'snapshot');
    const items: string[] = [];
    socket.on('alert', (entry: AlertEntry) => items.push(entry.alert.item));
    live.advanceTo(T0 + 10_500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(items).toEqual(['c1']);
  });

  it('window updates reach a room at most once a second, the latest board last', async () => {
    const socket = client({ token: token('supervisor', ['northants']), force: 'northants' });
    await next(socket, 'snapshot');
    const boards: { at: number; board: LiveBoard }[] = [];
    socket.on('window', (board: LiveBoard) => boards.push({ at: performance.now(), board }));
    let t = T0 + 8000;
    for (let i = 0; i < 25; i++) {
      t += 100;
      live.advanceTo(t);
      live.publishSnapshots();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(boards.length).toBeGreaterThanOrEqual(2);
    expect(boards.length).toBeLessThanOrEqual(4);
    // Sent ≥ 1000 ms apart; measured at the client, delivery jitter can shave a little.
    for (let i = 1; i < boards.length; i++) {
      expect(boards[i]!.at - boards[i - 1]!.at).toBeGreaterThanOrEqual(900);
    }
    expect(boards.at(-1)!.board.now).toBe(t);
  });
});

describe('acknowledgements', () => {
  async function breached() {
    const supervisor = client({ token: token('supervisor', ['northants']), force: 'northants' });
    const watcher = client({ token: token('admin', ['*']), force: 'northants' });
    await Promise.all([next(supervisor, 'snapshot'), next(watcher, 'snapshot')]);
    const alert = next<AlertEntry>(supervisor, 'alert');
    live.advanceTo(T0 + 10_001);
    return { supervisor, watcher, entry: await alert };
  }

  it('records who and when, and tells everyone in the room', async () => {
    const { supervisor, watcher, entry } = await breached();
    const seen = next<Acknowledgement>(watcher, 'acknowledged');
    const before = wallClock.now();
    const reply = await supervisor.emitWithAck('acknowledge', {
      force: 'northants',
      alert: entry.id,
    });
    expect(reply).toMatchObject({ ok: true });
    const acknowledgement = await seen;
    expect(acknowledgement).toMatchObject({
      force: 'northants',
      alert: entry.id,
      by: 'supervisor.one',
      role: 'supervisor',
    });
    expect(acknowledgement.at).toBeGreaterThanOrEqual(before);
    expect(acknowledgement.at).toBeLessThanOrEqual(wallClock.now());
    // A second press is answered with the first acknowledgement, not a new one.
    const again = (await watcher.emitWithAck('acknowledge', {
      force: 'northants',
      alert: entry.id,
    })) as Reply<{
      acknowledgement: Acknowledgement;
    }>;
    expect(again).toEqual({ ok: true, acknowledgement });
    expect(channel.acknowledgements('northants')).toEqual([acknowledgement]);
    // Recorded in the store, once, with the alert as the channel knew it.
    expect(await storedPresses()).toEqual([
      {
        force: 'northants',
        alert: entry.id,
        kind: 'breach',
        rule: 'call.unanswered',
        item: 'c1',
        subject: 'supervisor.one',
        role: 'supervisor',
        at: acknowledgement.at,
        node: 'node-under-test',
      },
    ]);
  });

  it('simultaneous presses on one node record one acknowledgement, answered to both', async () => {
    const { supervisor, watcher, entry } = await breached();
    const press = { force: 'northants', alert: entry.id };
    const replies = await Promise.all([
      supervisor.emitWithAck('acknowledge', press),
      watcher.emitWithAck('acknowledge', press),
      supervisor.emitWithAck('acknowledge', press),
    ]);
    const [first] = replies as Array<Reply<{ acknowledgement: Acknowledgement }>>;
    expect(first).toMatchObject({ ok: true });
    for (const reply of replies) expect(reply).toEqual(first);
    expect(await storedPresses()).toHaveLength(1);
  });

  it('an acknowledgement survives a restart of the api on the same data', async () => {
    const { supervisor, entry } = await breached();
    const reply = (await supervisor.emitWithAck('acknowledge', {
      force: 'northants',
      alert: entry.id,
    })) as Reply<{ acknowledgement: Acknowledgement }>;
    if (!reply.ok) throw new Error(reply.detail);
    await stop();
    await test.store.close();
    // A new process's view: a new store on the same folder, a channel with empty memory.
    test.store = await openStore(test.options);
    await serve();
    const again = client({ token: token('supervisor', ['northants']), force: 'northants' });
    const snapshot = await next<SnapshotMessage>(again, 'snapshot');
    expect(snapshot.acknowledgements).toEqual([reply.acknowledgement]);
    expect(channel.acknowledgements('northants')).toEqual([reply.acknowledgement]);
  });

  it('a store that fails to record is answered 503 and nothing is taken; a retry then succeeds', async () => {
    let failing = true;
    const flaky: AcknowledgementStore = {
      recordAcknowledgement: (record) =>
        failing
          ? Promise.reject(new Error('Code: 242. DB::Exception: table is read-only'))
          : test.store.recordAcknowledgement(record),
      listAcknowledgements: (query) => test.store.listAcknowledgements(query),
    };
    await stop();
    await serve(flaky);
    const { supervisor, watcher, entry } = await breached();
    const told: Acknowledgement[] = [];
    watcher.on('acknowledged', (acknowledgement: Acknowledgement) => told.push(acknowledgement));
    const press = { force: 'northants', alert: entry.id };
    const refused = await supervisor.emitWithAck('acknowledge', press);
    expect(refused).toEqual({
      ok: false,
      status: 503,
      reason: 'store_failed',
      detail: expect.stringContaining('not taken'),
    });
    expect(JSON.stringify(refused)).not.toContain('read-only');
    expect(channel.acknowledgements('northants')).toEqual([]);
    expect(await storedPresses()).toEqual([]);
    failing = false;
    const taken = await supervisor.emitWithAck('acknowledge', press);
    expect(taken).toMatchObject({ ok: true, acknowledgement: { alert: entry.id } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual([(taken as { acknowledgement: Acknowledgement }).acknowledgement]);
    expect(await storedPresses()).toHaveLength(1);
  });

  it('refuses other forces (403), unknown breaches (404) and malformed requests (400)', async () => {
    const { supervisor, entry } = await breached();
    expect(
      await supervisor.emitWithAck('acknowledge', { force: 'wmp', alert: entry.id }),
    ).toMatchObject({
      ok: false,
      status: 403,
      reason: 'force_not_covered',
    });
    expect(
      await supervisor.emitWithAck('acknowledge', { force: 'northants', alert: 'breach:x' }),
    ).toMatchObject({
      ok: false,
      status: 404,
      reason: 'unknown_breach',
    });
    expect(await supervisor.emitWithAck('acknowledge', { force: 'northants' })).toMatchObject({
      ok: false,
      status: 400,
      detail: expect.stringContaining('alert'),
    });
    // Without a callback the refusal still gets an answer, as an event.
    const refused = next<Reply<object>>(supervisor, 'refused');
    supervisor.emit('acknowledge', 'not an object');
    expect(await refused).toMatchObject({ ok: false, status: 400 });
    expect(channel.acknowledgements('northants')).toEqual([]);
  });
});

describe('token lifetime on an open socket', () => {
  it('the socket is closed with a 401 refusal when its token expires', async () => {
    const socket = client({ token: token('supervisor', ['northants'], 600), force: 'northants' });
    await next(socket, 'snapshot');
    const refused = await next<{ status: number; reason: string }>(socket, 'refused', 2000);
    expect(refused).toMatchObject({ status: 401, reason: 'expired' });
    expect(socket.connected).toBe(false);
  });
});
