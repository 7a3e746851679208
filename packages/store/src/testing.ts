/**
 * Helpers for tests (this package's and others') and benchmarks: a store on a fresh chDB
 * folder, or on the server named by CLICKHOUSE_URL in a database of its own, and a
 * deterministic generator of contract events.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallmonEvent, type CallmonEventWire, formatUtc, parseEvent } from '@callmon/events';
import type { ClickHouseClient } from '@clickhouse/client';
import { createChdbClient, createServerClient, type StoreOptions } from './connection.ts';
import type { EventRecord, SourcePosition } from './records.ts';
import { openStore, type Store } from './store.ts';

export interface TestStore {
  /** The options the store was opened with, to open it again after close(). */
  options: StoreOptions;
  /** Replace it after closing and reopening; cleanup() closes whichever is here. */
  store: Store;
  /** Close the store (if still open) and delete its folder or database. */
  cleanup(): Promise<void>;
}

/**
 * Open a store for one test file: over HTTP when CLICKHOUSE_URL is set (user and
 * password from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD), in a database named for this
 * run; otherwise on a new chDB folder under the system temp dir.
 */
export async function openTestStore(): Promise<TestStore> {
  const url = process.env.CLICKHOUSE_URL;
  if (url) {
    const credentials = {
      url,
      username: process.env.CLICKHOUSE_USER ?? 'default',
      password: process.env.CLICKHOUSE_PASSWORD ?? '',
    };
    const database = `callmon_test_${randomBytes(6).toString('hex')}`;
    const options: StoreOptions = { ...credentials, database };
    const test: TestStore = {
      options,
      store: await openStore(options),
      async cleanup() {
        await test.store.close();
        const admin = createServerClient(credentials);
        try {
          await admin.command({ query: `DROP DATABASE IF EXISTS ${database} SYNC` });
        } finally {
          await admin.close();
        }
      },
    };
    return test;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'callmon-store-'));
  const options: StoreOptions = { dataDir };
  const test: TestStore = {
    options,
    store: await openStore(options),
    async cleanup() {
      await test.store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return test;
}

/**
 * A bare client on the same data as a store opened with `options`, for tests that look
 * underneath the Store API (physical copies, table definitions). chDB lets several
 * connections share one folder, so this works while the store is open.
 */
export function openRawClient(options: StoreOptions): Promise<ClickHouseClient> {
  return 'dataDir' in options
    ? createChdbClient(options.dataDir)
    : Promise.resolve(createServerClient(options));
}

/** Parse contract lines (which must be valid) into records at consecutive positions. */
export function recordsFromLines(
  lines: readonly string[],
  position: Omit<SourcePosition, 'offset'> & { firstOffset?: number },
  arrivedAt: number,
): EventRecord[] {
  const first = position.firstOffset ?? 1;
  return lines.map((raw, index) => {
    const parsed = parseEvent(raw);
    if (!parsed.ok) throw new Error(`fixture line ${index} is not an event: ${parsed.detail}`);
    return {
      event: parsed.event,
      raw,
      arrivedAt,
      position: {
        kind: position.kind,
        name: position.name,
        partition: position.partition,
        offset: first + index,
      },
    };
  });
}

/** The wire form of an event (`at` as RFC 3339 UTC). */
export function toWire(event: CallmonEvent): CallmonEventWire {
  return { ...event, at: formatUtc(event.at) } as CallmonEventWire;
}

/**
 * A deterministic stream of plausible control-room events for one force: 999 and 101
 * calls (presented, then answered or abandoned, then closed), a third of them opening
 * an incident (sometimes regraded, dispatched, arrived, victim updated, closed). Events
 * are yielded in order of creation, which is roughly but not exactly event time.
 */
export function* generateEvents(options: {
  force: string;
  start: number;
  count: number;
  seed?: number;
}): Generator<CallmonEvent> {
  let state = options.seed ?? 1;
  const random = () => {
    // mulberry32: small, fast, good enough for fixtures.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const { force } = options;
  let emitted = 0;
  let clock = options.start;
  let callNumber = 0;
  const pending: CallmonEvent[] = [];
  while (emitted < options.count) {
    if (pending.length === 0) {
      callNumber++;
      clock += Math.floor(random() * 4_000);
      const call = `${force}-c${callNumber}`;
      const channel = random() < 0.3 ? '999' : '101';
      let at = clock;
      pending.push({
        v: 1,
        id: `${call}-p`,
        type: 'call.presented',
        force,
        at,
        call,
        channel,
        queue: pick(['general', 'priority', 'welsh']),
        source: 'iccs',
      });
      at += Math.floor(random() * (channel === '999' ? 20_000 : 600_000));
      if (random() < 0.9) {
        pending.push({
          v: 1,
          id: `${call}-a`,
          type: 'call.answered',
          force,
          at,
          call,
          handler: `h${Math.floor(random() * 60)}`,
        });
      } else {
        pending.push({ v: 1, id: `${call}-x`, type: 'call.abandoned', force, at, call });
      }
      at += Math.floor(random() * 300_000);
      pending.push({ v: 1, id: `${call}-c`, type: 'call.closed', force, at, call });
      if (random() < 0.35) {
        const incident = `${force}-i${callNumber}`;
        let t = at - Math.floor(random() * 60_000);
        pending.push({
          v: 1,
          id: `${incident}-o`,
          type: 'incident.opened',
          force,
          at: t,
          incident,
          grade: pick([1, 2, 2, 3, 4] as const),
          area: random() < 0.7 ? 'urban' : 'rural',
          call,
          district: pick(['north', 'south', 'east', 'west']),
          source: 'cad',
        });
        if (random() < 0.1) {
          t += Math.floor(random() * 600_000);
          pending.push({
            v: 1,
            id: `${incident}-r`,
            type: 'incident.regraded',
            force,
            at: t,
            incident,
            grade: pick([1, 2, 3] as const),
          });
        }
        const unit = `U${Math.floor(random() * 200)}`;
        t += Math.floor(random() * 300_000);
        pending.push({
          v: 1,
          id: `${incident}-d`,
          type: 'unit.dispatched',
          force,
          at: t,
          incident,
          unit,
        });
        t += Math.floor(random() * 1_800_000);
        pending.push({
          v: 1,
          id: `${incident}-a`,
          type: 'unit.arrived',
          force,
          at: t,
          incident,
          unit,
        });
        if (random() < 0.3) {
          pending.push({
            v: 1,
            id: `${incident}-v`,
            type: 'victim.updated',
            force,
            at: t - 60_000,
            incident,
          });
        }
        t += Math.floor(random() * 3_600_000);
        pending.push({
          v: 1,
          id: `${incident}-z`,
          type: 'incident.closed',
          force,
          at: t,
          incident,
        });
      }
    }
    yield pending.shift()!;
    emitted++;
  }
}
