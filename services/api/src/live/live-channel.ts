import type { Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import { authorize, CAPABILITIES, type Principal, verifyToken } from '@callmon/auth';
import type { Clock, LiveAlert } from '@callmon/compliance';
import type { AcknowledgementRecord, Store } from '@callmon/store';
import { Server, type Socket } from 'socket.io';
import { AcknowledgementBook, wire } from './acknowledgement-book.ts';
import type { LiveBoard, LiveFeed } from './live-feed.ts';
import {
  type Acknowledgement,
  type AlertEntry,
  acknowledgeSchema,
  alertId,
  handshakeSchema,
  joinSchema,
  type Refusal,
  type Reply,
  type SnapshotMessage,
} from './protocol.ts';
import { Ring } from './ring.ts';
import { ShiftHistory } from './shift-history.ts';

/** The few log methods the channel uses (pino's shape). */
export interface ChannelLog {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

/** Where acknowledgements are recorded and read back: the store every api node shares. */
export type AcknowledgementStore = Pick<Store, 'recordAcknowledgement' | 'listAcknowledgements'>;

export interface LiveChannelOptions {
  feed: LiveFeed;
  /** Every acknowledgement is recorded here before it is confirmed. */
  store: AcknowledgementStore;
  /** Names this process on the acknowledgements it records; default `<hostname>:<pid>`. */
  node?: string;
  /**
   * Read the acknowledgements other api nodes recorded in the store this often (the
   * distributed mode, where several nodes share one store). Off by default: a single
   * node (`callmon start`) is the only writer.
   */
  pollAcknowledgementsMs?: number;
  tokenSecret: string;
  /** The wall clock: token expiry and acknowledgement times (not feed time). */
  clock: Clock;
  log: ChannelLog;
  /** Least time between two window updates to one force's room; default 1000 ms. */
  updateIntervalMs?: number;
  /** Breaches and clears kept per force for the feed of a joining screen; default 500. */
  keepAlerts?: number;
  /** Acknowledgements held per force (and loaded from the store); default 2000. */
  keepAcknowledgements?: number;
  /** socket.io path; default `/socket.io`. */
  path?: string;
}

export interface LiveChannel {
  readonly io: Server;
  /** The acknowledgements held for a force (those that stand), oldest first. */
  acknowledgements(force: string): Acknowledgement[];
  close(): Promise<void>;
}

interface SocketData {
  principal: Principal;
  /** The force asked for in the handshake, joined once connected. */
  requested: string | undefined;
  /** The force whose room the socket is in. */
  force: string | undefined;
  /** Joins asked for so far: only the latest one still waiting on a load goes through. */
  joins: number;
}

type LiveSocket = Socket & { data: SocketData };

/** One force's room: what a joining screen gets, and the window-update throttle. */
class ForceRoom {
  readonly alerts: Ring<AlertEntry>;
  readonly acknowledgements: AcknowledgementBook;
  /** The store's acknowledgements of the force have been read into `acknowledgements`. */
  loaded = false;
  loading: Promise<void> | undefined;
  /** Acknowledgements being recorded, by alert: a second press waits for the first. */
  readonly recording = new Map<string, Promise<Acknowledgement>>();
  readonly history = new ShiftHistory();
  lastUpdateAt = Number.NEGATIVE_INFINITY;
  /** The latest board the feed published: what a joining screen gets (≤ one publish old). */
  latest: LiveBoard | undefined;
  latestAt = Number.NEGATIVE_INFINITY;
  pending: LiveBoard | undefined;
  timer: NodeJS.Timeout | undefined;

  constructor(keepAlerts: number, keepAcknowledgements: number) {
    this.alerts = new Ring(keepAlerts);
    this.acknowledgements = new AcknowledgementBook(keepAcknowledgements);
  }
}

const roomOf = (force: string) => `force:${force}`;

/** Longest a join waits for the store's acknowledgements before its snapshot goes out without them. */
const JOIN_WAIT_MS = 2000;
/**
 * Each poll re-reads this far behind the last successful one: a press recorded slowly or
 * on a node whose clock lags (its `at`) is still found.
 */
const POLL_MARGIN_MS = 120_000;
const POLL_LIMIT = 10_000;

/** The store's promise, with a synchronous throw turned into its rejection. */
function settled<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Wait for `work`, at most `ms`. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function refusal(status: Refusal['status'], reason: string, detail: string) {
  const error = new Error(detail) as Error & { data: Refusal };
  error.data = { status, reason, detail };
  return error;
}

/** Answer a client request: through its callback when it sent one, else as a `refused` event. */
function answer<T extends object>(socket: LiveSocket, ack: unknown, reply: Reply<T>): void {
  if (typeof ack === 'function') (ack as (reply: Reply<T>) => void)(reply);
  else if (!reply.ok) socket.emit('refused', reply);
}

/**
 * The socket.io live channel (architecture.md): the token is checked in the handshake
 * (401), a socket joins a force's room only when its token covers the force (403); on
 * join, and so on every reconnect, it gets a full snapshot; then window updates at most
 * once per `updateIntervalMs` per room, and every breach and clear at once.
 */
export function attachLiveChannel(server: HttpServer, options: LiveChannelOptions): LiveChannel {
  const { feed, store, tokenSecret, clock, log } = options;
  const node = options.node ?? `${hostname()}:${process.pid}`;
  const updateIntervalMs = options.updateIntervalMs ?? 1000;
  const keepAlerts = options.keepAlerts ?? 500;
  const keepAcknowledgements = options.keepAcknowledgements ?? 2000;
  const io = new Server(server, {
    path: options.path ?? '/socket.io',
    // Same origin only: the dashboard is served by this server.
    cors: undefined,
    serveClient: true,
    // Small JSON messages; a larger one is a client mistake or an attack.
    maxHttpBufferSize: 16_384,
  });
  const rooms = new Map<string, ForceRoom>();
  const roomFor = (force: string) => {
    let room = rooms.get(force);
    if (room === undefined) {
      room = new ForceRoom(keepAlerts, keepAcknowledgements);
      rooms.set(force, room);
    }
    return room;
  };

  const emitTo = (force: string, event: string, payload: unknown) =>
    io.to(roomOf(force)).emit(event, payload);

  /** Store work still running, awaited by close() so it never outlives the store. */
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.then(
      () => running.delete(work),
      () => running.delete(work),
    );
    return work;
  };

  /** Take a recorded acknowledgement into the force's room; tell the room when it now stands. */
  const take = (record: AcknowledgementRecord) => {
    const room = roomFor(record.force);
    if (!room.acknowledgements.offer(record)) return;
    emitTo(record.force, 'acknowledged', room.acknowledgements.get(record.alert));
  };

  /** Read the force's stored acknowledgements into its room, once (retried after a failure). */
  const load = (force: string, room: ForceRoom): Promise<void> => {
    if (room.loaded) return Promise.resolve();
    room.loading ??= track(
      settled(() =>
        store.listAcknowledgements({ force, limit: keepAcknowledgements, keep: 'newest' }),
      )
        .then(
          (records) => {
            for (const record of records) take(record);
            room.loaded = true;
          },
          (error: Error) =>
            log.warn(
              { force, reason: error.message },
              'could not read the acknowledgements from the store; a snapshot holds only those seen since start',
            ),
        )
        .finally(() => {
          room.loading = undefined;
        }),
    );
    return room.loading;
  };

  // Distributed mode: acknowledgements recorded by other nodes, from the shared store.
  let pollFrom = clock.now() - POLL_MARGIN_MS;
  let polling: Promise<void> | undefined;
  const poll = () => {
    if (polling !== undefined) return;
    const started = clock.now();
    polling = track(
      // Every press, weighed here as the store would: a plain read of the last minutes.
      settled(() => store.listAcknowledgements({ from: pollFrom, limit: POLL_LIMIT, every: true }))
        .then(
          (records) => {
            for (const record of records) take(record);
            pollFrom = started - POLL_MARGIN_MS;
          },
          // The next poll reads from the same instant, so nothing is missed meanwhile.
          (error: Error) =>
            log.warn(
              { reason: error.message },
              'could not read new acknowledgements from the store',
            ),
        )
        .finally(() => {
          polling = undefined;
        }),
    );
  };
  const pollTimer =
    options.pollAcknowledgementsMs === undefined
      ? undefined
      : setInterval(poll, options.pollAcknowledgementsMs);

  const sendWindow = (force: string, room: ForceRoom) => {
    room.timer = undefined;
    const board = room.pending;
    if (board === undefined) return;
    room.pending = undefined;
    room.lastUpdateAt = clock.now();
    emitTo(force, 'window', board);
  };

  const unsubscribe = feed.subscribe({
    board(board) {
      const room = roomFor(board.force);
      room.history.record(board.now, board.snapshot);
      room.latest = board;
      room.latestAt = clock.now();
      room.pending = board;
      if (room.timer !== undefined) return;
      const wait = room.lastUpdateAt + updateIntervalMs - clock.now();
      if (wait <= 0) sendWindow(board.force, room);
      else room.timer = setTimeout(() => sendWindow(board.force, room), wait);
    },
    alert(alert: LiveAlert) {
      const entry: AlertEntry = { id: alertId(alert), alert };
      // Kept for joining screens: breaches and their resolutions. Routine clears (a call
      // answered in time) go out live but would push breaches out of a bounded list.
      if (alert.kind === 'breach' || alert.wasBreached) roomFor(alert.force).alerts.push(entry);
      emitTo(alert.force, 'alert', entry);
    },
  });

  const snapshotOf = (force: string): SnapshotMessage => {
    const room = roomFor(force);
    // The latest board while it is fresh (published within two update intervals), else a
    // new one from the feed: a reconnect storm (every screen after a restart) costs one
    // board, not one each, and a §8 snapshot of a busy force costs tens of ms.
    if (room.latest === undefined || clock.now() - room.latestAt > 2 * updateIntervalMs) {
      const board = feed.board(force);
      if (board !== undefined) {
        room.latest = board;
        room.latestAt = clock.now();
        room.history.record(board.now, board.snapshot);
      }
    }
    const board = room.latest ?? null;
    return {
      force,
      board,
      alerts: room.alerts.toArray(),
      acknowledgements: room.acknowledgements.toArray(),
      history: room.history.toArray(),
    };
  };

  const forcesFor = (principal: Principal) =>
    feed.forces().filter((force) => authorize(principal, 'live', force).ok);

  const join = async (socket: LiveSocket, force: string): Promise<Reply<{ force: string }>> => {
    const allowed = authorize(socket.data.principal, 'live', force);
    if (!allowed.ok)
      return { ok: false, status: 403, reason: allowed.reason, detail: allowed.detail };
    const attempt = ++socket.data.joins;
    // The snapshot carries the stored acknowledgements; should the store be slow, it goes
    // out without them and they follow as `acknowledged` messages when the load ends.
    const room = roomFor(force);
    await within(load(force, room), JOIN_WAIT_MS);
    // A later join (another force) or a disconnect meanwhile has the last word.
    if (socket.disconnected || socket.data.joins !== attempt) return { ok: true, force };
    if (socket.data.force !== undefined && socket.data.force !== force) {
      void socket.leave(roomOf(socket.data.force));
    }
    socket.data.force = force;
    void socket.join(roomOf(force));
    socket.emit('snapshot', snapshotOf(force));
    return { ok: true, force };
  };

  io.use((socket, next) => {
    const handshake = handshakeSchema.safeParse(socket.handshake.auth ?? {});
    if (!handshake.success) {
      const issue = handshake.error.issues[0];
      const field = issue?.path.join('.') ?? '';
      if (field === 'token') return next(refusal(401, 'missing', 'auth.token is required'));
      return next(refusal(400, 'invalid_request', `auth.${field}: ${issue?.message ?? 'invalid'}`));
    }
    const check = verifyToken(handshake.data.token, tokenSecret, clock.now());
    if (!check.ok) return next(refusal(401, check.reason, check.detail));
    const principal = check.principal;
    const force = handshake.data.force;
    if (force !== undefined) {
      const allowed = authorize(principal, 'live', force);
      if (!allowed.ok) return next(refusal(403, allowed.reason, allowed.detail));
    } else if (!(CAPABILITIES.live as readonly string[]).includes(principal.role)) {
      return next(
        refusal(403, 'role_not_allowed', `role ${principal.role} may not use the live channel`),
      );
    }
    const data: SocketData = { principal, requested: force, force: undefined, joins: 0 };
    socket.data = data;
    next();
  });

  io.on('connection', (socket: LiveSocket) => {
    const principal = socket.data.principal;
    // A token stops working when it expires, even on an open socket.
    const expiresIn = Math.min(principal.expiresAt - clock.now(), 2_147_483_647);
    const expiry = setTimeout(() => {
      const expired: Refusal = { status: 401, reason: 'expired', detail: 'token has expired' };
      socket.emit('refused', expired);
      socket.disconnect(true);
    }, expiresIn);
    socket.on('disconnect', () => clearTimeout(expiry));

    socket.emit('forces', forcesFor(principal));
    // Joining on every connection makes a reconnect a join: a full snapshot again.
    if (socket.data.requested !== undefined) void join(socket, socket.data.requested);

    socket.on('forces', (ack: unknown) => {
      if (typeof ack === 'function') ack(forcesFor(principal));
    });

    socket.on('join', async (payload: unknown, ack: unknown) => {
      const request = joinSchema.safeParse(payload);
      if (!request.success) {
        answer(socket, ack, {
          ok: false,
          status: 400,
          reason: 'invalid_request',
          detail: request.error.issues[0]?.message ?? 'invalid join',
        });
        return;
      }
      answer(socket, ack, await join(socket, request.data.force));
    });

    socket.on('acknowledge', async (payload: unknown, ack: unknown) => {
      const request = acknowledgeSchema.safeParse(payload);
      if (!request.success) {
        const issue = request.error.issues[0];
        answer(socket, ack, {
          ok: false,
          status: 400,
          reason: 'invalid_request',
          detail: `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid acknowledgement'}`,
        });
        return;
      }
      const { force, alert } = request.data;
      const allowed = authorize(principal, 'acknowledge', force);
      if (!allowed.ok) {
        answer(socket, ack, {
          ok: false,
          status: 403,
          reason: allowed.reason,
          detail: allowed.detail,
        });
        return;
      }
      const room = roomFor(force);
      const entry = room.alerts.find((candidate) => candidate.id === alert);
      if (entry === undefined || entry.alert.kind !== 'breach') {
        answer(socket, ack, {
          ok: false,
          status: 404,
          reason: 'unknown_breach',
          detail: `no recent breach ${alert} for force ${force}`,
        });
        return;
      }
      // The first acknowledgement stands; a second one (another screen, a double press) is
      // answered with it. Across nodes the store decides (acknowledgement-book.ts).
      const existing = room.acknowledgements.get(alert);
      if (existing !== undefined) {
        answer(socket, ack, { ok: true, acknowledgement: existing });
        return;
      }
      let recording = room.recording.get(alert);
      if (recording === undefined) {
        const record: AcknowledgementRecord = {
          force,
          alert,
          kind: entry.alert.kind,
          rule: entry.alert.rule,
          item: entry.alert.item,
          subject: principal.subject,
          role: principal.role,
          at: clock.now(),
          node,
        };
        // Recorded before it is confirmed to anyone: what a screen shows as acknowledged
        // is in the store for an inspector to see later.
        recording = track(settled(() => store.recordAcknowledgement(record)))
          .then(() => {
            log.info({ force, alert, by: principal.subject }, 'breach acknowledged');
            take(record);
            return room.acknowledgements.get(alert) ?? wire(record);
          })
          .finally(() => room.recording.delete(alert));
        room.recording.set(alert, recording);
      }
      let acknowledgement: Acknowledgement;
      try {
        acknowledgement = await recording;
      } catch (error) {
        log.warn(
          { force, alert, by: principal.subject, reason: (error as Error).message },
          'an acknowledgement could not be recorded in the store',
        );
        answer(socket, ack, {
          ok: false,
          status: 503,
          reason: 'store_failed',
          detail: 'the acknowledgement could not be recorded, so it was not taken; try again',
        });
        return;
      }
      answer(socket, ack, { ok: true, acknowledgement });
    });
  });

  return {
    io,
    acknowledgements: (force) => rooms.get(force)?.acknowledgements.toArray() ?? [],
    async close() {
      unsubscribe();
      if (pollTimer !== undefined) clearInterval(pollTimer);
      for (const room of rooms.values()) if (room.timer !== undefined) clearTimeout(room.timer);
      // io.close() would also close the http server, which belongs to the caller.
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        io.engine.close();
        resolve();
      });
      await Promise.allSettled(running);
    },
  };
}
