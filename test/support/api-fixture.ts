import { buildApi, engineLiveView, type LiveView } from '@callmon/api';
import { type Role, signToken } from '@callmon/auth';
import { LiveEngine, Policy } from '@callmon/compliance';
import type { CallmonEvent } from '@callmon/events';
import type { RejectedRecord, Store } from '@callmon/store';
import {
  generateEvents,
  openTestStore,
  recordsFromLines,
  type TestStore,
  toWire,
} from '@callmon/store/testing';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/**
 * One fixture for the API tests: a real chDB store holding a simulated stretch of two
 * forces' events (one event delivered twice), rejected inputs of both forces and of
 * none, and a live engine fed the same events. Expected answers are computed from these
 * inputs by the tests themselves, never read back from the API.
 */
export const FORCE = 'northants';
export const OTHER_FORCE = 'wmp';
export const SECRET = 'api-test-secret-long-enough-for-hmac-sha256';
export const WEEK = '2024-W08';
/** Engine and API time: the Thursday of the fixture week. */
export const NOW = Date.parse('2024-02-22T12:00:00.000Z');
export const ARRIVED = Date.parse('2024-02-22T11:00:00.000Z');
export const policy = Policy.ukDefault();

export interface ApiFixture {
  test: TestStore;
  events: CallmonEvent[];
  /** Raw line of each event (by force and id), as stored. */
  lines: Map<string, string>;
  /** The one event stored twice; its second copy arrived a minute later. */
  duplicated: CallmonEvent;
  rejected: RejectedRecord[];
  engine: LiveEngine;
  liveView: LiveView;
  app(options?: {
    /** Wraps the real store, e.g. to inject faults. */
    store?: (store: Store) => Store;
    log?: FastifyBaseLogger;
    rateLimit?: { max: number; timeWindowMs: number } | false;
    /** The api's clock (default NOW). */
    now?: number;
  }): Promise<FastifyInstance>;
  token(role: Role, forces: string[], options?: { ttlMs?: number; issuedAt?: number }): string;
  cleanup(): Promise<void>;
}

function rejectedAt(
  offset: number,
  reason: RejectedRecord['reason'],
  raw: string | Uint8Array,
  extra: Partial<RejectedRecord> = {},
): RejectedRecord {
  return {
    raw,
    reason,
    detail: `fixture ${reason}`,
    arrivedAt: ARRIVED + Math.floor(offset / 3) * 1000,
    position: { kind: 'file', name: 'fixture.ndjson', partition: 0, offset },
    ...extra,
  };
}

export async function openApiFixture(): Promise<ApiFixture> {
  const test = await openTestStore();
  const start = Date.parse('2024-02-19T06:00:00Z');
  const events = [
    ...generateEvents({ force: FORCE, start, count: 600, seed: 11 }),
    ...generateEvents({ force: OTHER_FORCE, start, count: 200, seed: 12 }),
  ].filter((event) => event.at <= NOW);
  const lines = new Map<string, string>();
  const raws = events.map((event) => {
    const line = JSON.stringify(toWire(event));
    lines.set(`${event.force}/${event.id}`, line);
    return line;
  });
  await test.store.insertEvents(
    recordsFromLines(raws, { kind: 'file', name: 'fixture.ndjson', partition: 0 }, ARRIVED),
    { dedupToken: 'fixture:events' },
  );
  const duplicated = events.find(
    (event) => event.force === FORCE && event.type === 'call.answered',
  )!;
  await test.store.insertEvents(
    recordsFromLines(
      [lines.get(`${FORCE}/${duplicated.id}`)!],
      { kind: 'file', name: 'again.ndjson', partition: 0 },
      ARRIVED + 60_000,
    ),
    { dedupToken: 'fixture:again' },
  );
  const rejected: RejectedRecord[] = [
    rejectedAt(1, 'invalid_json', '{"force":"northants",', { force: FORCE }),
    rejectedAt(2, 'missing_field', '{"v":1,"force":"northants"}', { force: FORCE, field: 'id' }),
    rejectedAt(3, 'invalid_field', '{"v":1,"force":"wmp","at":"x"}', {
      force: OTHER_FORCE,
      field: 'at',
    }),
    rejectedAt(4, 'invalid_json', 'not json at all'),
    rejectedAt(5, 'invalid_encoding', Buffer.from([0xff, 0xfe, 0x41])),
    rejectedAt(6, 'unknown_type', '{"v":1,"force":"northants","type":"call.held"}', {
      force: FORCE,
      field: 'type',
    }),
    rejectedAt(7, 'duplicate', lines.get(`${FORCE}/${duplicated.id}`)!, {
      force: FORCE,
      eventId: duplicated.id,
    }),
    rejectedAt(8, 'conflict', '{"v":1,"id":"x"}', { force: FORCE, eventId: 'x' }),
    rejectedAt(9, 'missing_field', '{"v":1,"force":"northants","type":"call.presented"}', {
      force: FORCE,
      field: 'call',
    }),
    rejectedAt(10, 'invalid_field', '{"v":1,"force":"northants","grade":9}', {
      force: FORCE,
      field: 'grade',
    }),
  ];
  await test.store.insertRejected(rejected, { dedupToken: 'fixture:rejected' });

  const engine = new LiveEngine({ force: FORCE, policy });
  for (const event of events) if (event.force === FORCE) engine.apply(event);
  engine.advanceTo(NOW);
  const liveView = engineLiveView(new Map([[FORCE, engine]]));

  return {
    test,
    events,
    lines,
    duplicated,
    rejected,
    engine,
    liveView,
    app: (options = {}) =>
      buildApi({
        store: options.store === undefined ? test.store : options.store(test.store),
        liveView,
        tokenSecret: SECRET,
        clock: { now: () => options.now ?? NOW },
        policy,
        ...(options.log === undefined ? {} : { log: options.log }),
        rateLimit: options.rateLimit ?? false,
      }),
    token: (role, forces, options = {}) =>
      signToken(
        { subject: `${role}-${forces.join('+')}`, role, forces, ttlMs: options.ttlMs ?? 3_600_000 },
        SECRET,
        options.issuedAt ?? NOW,
      ),
    cleanup: () => test.cleanup(),
  };
}
