import { acknowledgementsBody, errorBody } from '@callmon/api';
import { CAPABILITIES, type Capability, ROLES, type Role } from '@callmon/auth';
import { rollingSnapshot, weeklyReport } from '@callmon/compliance';
import { formatUtc } from '@callmon/events';
import { weeklyReportCsv, weeklyReportHtml } from '@callmon/reports';
import { type AcknowledgementRecord, type Store, StoreFailedError } from '@callmon/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiFixture,
  ARRIVED,
  FORCE,
  NOW,
  OTHER_FORCE,
  openApiFixture,
  policy,
  WEEK,
} from './support/api-fixture.ts';
import { waitFor } from './support/wait.ts';

/**
 * The REST API over a real chDB store: every route refuses a request without a token
 * (401), with a role that lacks the capability or a token for another force (403), and
 * answers the right token with content computed here, independently, from the inputs.
 */

let fixture: ApiFixture;
let app: FastifyInstance;

beforeAll(async () => {
  fixture = await openApiFixture();
  app = await fixture.app();
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await fixture?.cleanup();
});

const call = () => fixture.duplicated as { call: string } & typeof fixture.duplicated;
const incident = () =>
  fixture.events.find((event) => event.force === FORCE && event.type === 'unit.arrived') as {
    incident: string;
  };

/** Every force-scoped route, with the capability it needs. */
const ROUTES: Array<{ name: string; capability: Capability; url: (force: string) => string }> = [
  { name: 'live snapshot', capability: 'live', url: (f) => `/api/v1/forces/${f}/live` },
  {
    name: 'weekly report',
    capability: 'report',
    url: (f) => `/api/v1/forces/${f}/reports/weekly?week=${WEEK}`,
  },
  {
    name: 'call timeline',
    capability: 'audit',
    url: (f) => `/api/v1/forces/${f}/calls/${call().call}/timeline`,
  },
  {
    name: 'incident timeline',
    capability: 'audit',
    url: (f) => `/api/v1/forces/${f}/incidents/${incident().incident}/timeline`,
  },
  { name: 'rejected events', capability: 'audit', url: (f) => `/api/v1/forces/${f}/rejected` },
  { name: 'data quality', capability: 'audit', url: (f) => `/api/v1/forces/${f}/data-quality` },
  {
    name: 'acknowledgements',
    capability: 'audit',
    url: (f) => `/api/v1/forces/${f}/acknowledgements`,
  },
];

async function get(url: string, token?: string) {
  const response = await app.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return response;
}

function expectError(
  response: Awaited<ReturnType<typeof get>>,
  status: number,
  reason: string,
  parameter?: string,
) {
  expect(response.statusCode, response.body).toBe(status);
  const body = errorBody.parse(response.json());
  expect(body.reason).toBe(reason);
  if (parameter !== undefined) expect(body.parameter).toBe(parameter);
}

describe.each(ROUTES)('$name', ({ capability, url }) => {
  const allowed = CAPABILITIES[capability] as readonly Role[];
  const refused = ROLES.filter((role) => !allowed.includes(role));

  it('without a token is 401, saying the token is missing', async () => {
    const response = await get(url(FORCE));
    expectError(response, 401, 'missing');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('with an expired, forged or malformed token is 401 with the reason', async () => {
    const expired = fixture.token(allowed[0]!, [FORCE], { ttlMs: 1000, issuedAt: NOW - 2000 });
    expectError(await get(url(FORCE), expired), 401, 'expired');
    const forged = `${fixture.token(allowed[0]!, [FORCE]).slice(0, -4)}AAAA`;
    expectError(await get(url(FORCE), forged), 401, 'bad_signature');
    expectError(await get(url(FORCE), 'not-a-token'), 401, 'malformed');
  });

  it.each(refused)('for role %s is 403', async (role) => {
    expectError(await get(url(FORCE), fixture.token(role, [FORCE])), 403, 'role_not_allowed');
  });

  it.each(allowed)('for role %s of another force is 403', async (role) => {
    expectError(
      await get(url(FORCE), fixture.token(role, [OTHER_FORCE])),
      403,
      'force_not_covered',
    );
  });

  it.each(allowed)('for role %s of the force (or of every force) is 200', async (role) => {
    expect((await get(url(FORCE), fixture.token(role, [OTHER_FORCE, FORCE]))).statusCode).toBe(200);
    expect((await get(url(FORCE), fixture.token(role, ['*']))).statusCode).toBe(200);
  });
});

describe('content', () => {
  const admin = () => fixture.token('admin', [FORCE]);
  const forceEvents = () => fixture.events.filter((event) => event.force === FORCE);

  it('the live snapshot is the §8 batch evaluation of the same events at engine time', async () => {
    const response = await get(`/api/v1/forces/${FORCE}/live`, admin());
    expect(response.json()).toEqual(
      rollingSnapshot(forceEvents(), { force: FORCE, asOf: NOW, policy }),
    );
  });

  it('a force with no live state is 404, not an empty snapshot', async () => {
    const response = await get(`/api/v1/forces/${OTHER_FORCE}/live`, fixture.token('admin', ['*']));
    expectError(response, 404, 'no_live_state');
  });

  it('the weekly report equals the TypeScript evaluator over the same events, in each format', async () => {
    const asOf = '2024-02-21T08:00:00.000Z';
    const expected = weeklyReport(fixture.events, {
      force: FORCE,
      week: WEEK,
      asOf: Date.parse(asOf),
      policy,
    });
    const base = `/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&as_of=${asOf}`;
    const performance = fixture.token('performance', [FORCE]);
    expect((await get(base, performance)).json()).toEqual(expected);
    const csv = await get(`${base}&format=csv`, performance);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe(weeklyReportCsv(expected));
    const html = await get(`${base}&format=html`, performance);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toBe(weeklyReportHtml(expected));
  });

  it('without as_of the report is as of the clock', async () => {
    const response = await get(`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}`, admin());
    expect(response.json().as_of).toBe(formatUtc(NOW));
  });

  it('week facts are refreshed in the background: weeks reported once ended, and the last weeks of every force', async () => {
    const refreshed: string[] = [];
    const store = fixture.test.store;
    // The real store, with its refreshes noted as they start.
    const noting = new Proxy(store, {
      get(target, property) {
        if (property === 'refreshWeekFacts') {
          return (options: Parameters<Store['refreshWeekFacts']>[0]) => {
            refreshed.push(`${options.force} ${options.week}`);
            return target.refreshWeekFacts(options);
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    // A week later: WEEK has ended, 2024-W09 is in progress.
    const now = Date.parse('2024-02-29T12:00:00Z');
    const later = await fixture.app({ store: () => noting, now });
    // At start: the last four ended weeks of each force with events in them, unasked.
    await waitFor(
      'the recent weeks of the other force',
      () => refreshed.includes(`${OTHER_FORCE} ${WEEK}`),
      10_000,
      50,
    );
    const token = fixture.token('performance', [FORCE], { issuedAt: now });
    for (const week of [WEEK, '2024-W09', WEEK]) {
      const response = await later.inject({
        method: 'GET',
        url: `/api/v1/forces/${FORCE}/reports/weekly?week=${week}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode, response.body).toBe(200);
    }
    await later.close(); // waits for the refresh under way
    expect(new Set(refreshed)).toEqual(
      new Set(
        [FORCE, OTHER_FORCE].flatMap((force) =>
          ['2024-W05', '2024-W06', '2024-W07', WEEK].map((week) => `${force} ${week}`),
        ),
      ),
    );
    // The facts stored hold: a refresh now finds nothing to read again.
    for (const force of [FORCE, OTHER_FORCE]) {
      const again = await store.refreshWeekFacts({ force, week: WEEK, policy });
      expect(again.unchanged).toBe(true);
      expect(again.items).toBeGreaterThan(0);
    }
  });

  it("a call's timeline is every stored copy of its events, the later copy uncounted", async () => {
    const { call: id } = call();
    const response = await get(`/api/v1/forces/${FORCE}/calls/${id}/timeline`, admin());
    const body = response.json();
    const mine = forceEvents()
      .filter((event) => 'call' in event && event.call === id)
      .sort((a, b) => a.at - b.at);
    const ids = mine.map((event) => event.id);
    // The duplicated event appears twice: first copy counted, second not.
    const dupIndex = ids.indexOf(fixture.duplicated.id);
    ids.splice(dupIndex + 1, 0, fixture.duplicated.id);
    expect(body.call).toBe(id);
    expect(body.events.map((entry: { event: { id: string } }) => entry.event.id)).toEqual(ids);
    const copies = body.events.filter(
      (entry: { event: { id: string } }) => entry.event.id === fixture.duplicated.id,
    );
    expect(copies.map((entry: { counted: boolean }) => entry.counted)).toEqual([true, false]);
    expect(copies.map((entry: { arrived_at: string }) => entry.arrived_at)).toEqual([
      formatUtc(ARRIVED),
      formatUtc(ARRIVED + 60_000),
    ]);
    expect(copies[1].source).toEqual({
      kind: 'file',
      name: 'again.ndjson',
      partition: 0,
      offset: 1,
    });
    for (const entry of body.events) {
      expect(entry.raw).toBe(fixture.lines.get(`${FORCE}/${entry.event.id}`));
      expect(entry.event).toEqual(JSON.parse(entry.raw));
    }
  });

  it("an incident's timeline is every event of it, by event time", async () => {
    const { incident: id } = incident();
    const response = await get(`/api/v1/forces/${FORCE}/incidents/${id}/timeline`, admin());
    const expected = forceEvents()
      .filter((event) => 'incident' in event && event.incident === id)
      .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))
      .map((event) => event.id);
    expect(
      response.json().events.map((entry: { event: { id: string } }) => entry.event.id),
    ).toEqual(expected);
  });

  it('an unknown call or incident is 404', async () => {
    expectError(
      await get(`/api/v1/forces/${FORCE}/calls/nope/timeline`, admin()),
      404,
      'unknown_call',
    );
    expectError(
      await get(`/api/v1/forces/${FORCE}/incidents/nope/timeline`, admin()),
      404,
      'unknown_incident',
    );
  });

  async function allPages(url: string, token: string, limit: number) {
    const seen: Array<{ source: { offset: number }; reason: string; force: string | null }> = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const separator = url.includes('?') ? '&' : '?';
      const response = await get(
        `${url}${separator}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
        token,
      );
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...body.items);
      cursor = body.next_cursor;
      if (cursor === null) return seen;
    }
    throw new Error('paging did not end');
  }

  it('rejected inputs of the force, paged by cursor: each once, in arrival order', async () => {
    const inspector = fixture.token('inspector', [FORCE]);
    const expected = fixture.rejected
      .filter((record) => record.force === FORCE)
      .map((record) => record.position.offset);
    for (const limit of [1, 2, 3, 100]) {
      const items = await allPages(`/api/v1/forces/${FORCE}/rejected`, inspector, limit);
      expect(items.map((item) => item.source.offset)).toEqual(expected);
    }
  });

  it('rejected inputs filter by reason and arrival time', async () => {
    const inspector = fixture.token('inspector', [FORCE]);
    const byReason = await allPages(
      `/api/v1/forces/${FORCE}/rejected?reason=missing_field`,
      inspector,
      1,
    );
    expect(byReason.map((item) => item.source.offset)).toEqual([2, 9]);
    const from = formatUtc(ARRIVED + 2000);
    const late = await allPages(`/api/v1/forces/${FORCE}/rejected?from=${from}`, inspector, 2);
    expect(late.map((item) => item.source.offset)).toEqual([6, 7, 8, 9, 10]);
  });

  it('a rejected entry carries its raw bytes, as text when they are UTF-8', async () => {
    const all = await get(
      '/api/v1/rejected?reason=invalid_encoding',
      fixture.token('admin', ['*']),
    );
    const [entry] = all.json().items;
    expect(entry.raw_text).toBeNull();
    expect(Buffer.from(entry.raw_base64, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x41]));
    expect(entry.force).toBeNull();
  });

  it('unattributed rejected inputs are only for tokens covering every force', async () => {
    const everything = await allPages('/api/v1/rejected', fixture.token('inspector', ['*']), 4);
    expect(everything.map((item) => item.source.offset)).toEqual(
      fixture.rejected.map((record) => record.position.offset),
    );
    expectError(
      await get('/api/v1/rejected', fixture.token('inspector', [FORCE, OTHER_FORCE])),
      403,
      'force_not_covered',
    );
    expectError(
      await get('/api/v1/rejected', fixture.token('supervisor', ['*'])),
      403,
      'role_not_allowed',
    );
    expectError(await get('/api/v1/rejected'), 401, 'missing');
  });

  it('the data-quality summary counts accepted, duplicate, conflicting and rejected inputs', async () => {
    const response = await get(`/api/v1/forces/${FORCE}/data-quality`, admin());
    const mine = fixture.rejected.filter((record) => record.force === FORCE);
    const rejected: Record<string, number> = {};
    for (const record of mine) {
      if (record.reason === 'duplicate' || record.reason === 'conflict') continue;
      rejected[record.reason] = (rejected[record.reason] ?? 0) + 1;
    }
    expect(response.json()).toEqual({
      force: FORCE,
      from: null,
      to: null,
      accepted_events: new Set(forceEvents().map((event) => event.id)).size,
      duplicates: 1,
      conflicts: 1,
      rejected,
      rejected_total: Object.values(rejected).reduce((a, b) => a + b, 0),
    });
  });

  it('data quality over a range counts accepted events by event time', async () => {
    const from = '2024-02-19T06:00:00.000Z';
    const to = '2024-02-19T06:02:00.000Z';
    const response = await get(
      `/api/v1/forces/${FORCE}/data-quality?from=${from}&to=${to}`,
      admin(),
    );
    const expected = forceEvents().filter(
      (event) => event.at >= Date.parse(from) && event.at < Date.parse(to),
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(response.json().accepted_events).toBe(expected);
  });
});

describe('acknowledgements', () => {
  const ACKED = Date.parse('2024-02-22T09:00:00.000Z');
  /** A press of breach `item`, `offsetMs` after ACKED. */
  const press = (
    item: string,
    offsetMs: number,
    fields: Partial<AcknowledgementRecord> = {},
  ): AcknowledgementRecord => ({
    force: FORCE,
    alert: `breach:call.unanswered:${item}:${ACKED - 60_000}`,
    kind: 'breach',
    rule: 'call.unanswered',
    item,
    subject: 'sgt.one',
    role: 'supervisor',
    at: ACKED + offsetMs,
    node: 'api-1:42',
    ...fields,
  });
  const presses = [
    press('k1', 0),
    // Two nodes took k2 at once: the earlier press stands, whatever order they were stored in.
    press('k2', 1500, { subject: 'sgt.two', node: 'api-2:7' }),
    press('k2', 1000, { subject: 'sgt.three', role: 'admin' }),
    press('k3', 2000),
    press('k4', 3000, { subject: 'insp.x', role: 'admin' }),
    press('w1', 500, { force: OTHER_FORCE }),
  ];
  /** What the route must list: one per alert of the force, the earliest, oldest first. */
  const standing = () =>
    [presses[0]!, presses[2]!, presses[3]!, presses[4]!].map((record) => ({
      alert: record.alert,
      kind: 'breach',
      rule: 'call.unanswered',
      item: record.item,
      by: record.subject,
      role: record.role,
      at: formatUtc(record.at),
      node: record.node,
    }));

  beforeAll(async () => {
    for (const record of presses) await fixture.test.store.recordAcknowledgement(record);
  });

  const inspector = () => fixture.token('inspector', [FORCE]);
  const list = async (query: string) => {
    const response = await get(`/api/v1/forces/${FORCE}/acknowledgements${query}`, inspector());
    expect(response.statusCode, response.body).toBe(200);
    return acknowledgementsBody.parse(response.json());
  };

  it("lists the force's acknowledged breaches, the first press of each, oldest first", async () => {
    expect(await list('')).toEqual({
      force: FORCE,
      from: null,
      to: null,
      items: standing(),
      truncated: false,
    });
  });

  it('filters by the time of the acknowledgement that stands, and cuts at the limit', async () => {
    const from = formatUtc(ACKED + 1000);
    const to = formatUtc(ACKED + 3000);
    expect(await list(`?from=${from}&to=${to}`)).toEqual({
      force: FORCE,
      from,
      to,
      items: standing().slice(1, 3),
      truncated: false,
    });
    // k2's later press falls in this range, but it is not the one that stands.
    expect((await list(`?from=${formatUtc(ACKED + 1200)}&to=${to}`)).items).toEqual(
      standing().slice(2, 3),
    );
    const cut = await list('?limit=3');
    expect(cut.items).toEqual(standing().slice(0, 3));
    expect(cut.truncated).toBe(true);
    expect((await list('?limit=4')).truncated).toBe(false);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=1001', 'limit'],
    ['?from=yesterday', 'from'],
    ['?from=2024-02-22T10:00:00Z&to=2024-02-22T09:00:00Z', 'to'],
    ['?force=wmp', 'force'],
  ])('%s → 400 naming %s', async (query, parameter) => {
    const response = await get(`/api/v1/forces/${FORCE}/acknowledgements${query}`, inspector());
    expect(response.statusCode, response.body).toBe(400);
    expect(errorBody.parse(response.json()).parameter).toBe(parameter);
  });
});

describe('invalid parameters are a 400 naming the parameter, never a 500', () => {
  const admin = () => fixture.token('admin', ['*']);
  it.each([
    ['/api/v1/forces/NORTHANTS/live', 'force'],
    ['/api/v1/forces/x/data-quality', 'force'],
    [`/api/v1/forces/${FORCE}/reports/weekly`, 'week'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=2024-8`, 'week'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=2023-W53`, 'week'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=0001-W01`, 'week'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&format=pdf`, 'format'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&as_of=2024-02-30T00:00:00Z`, 'as_of'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&as_of=2024-02-20T00:00:00`, 'as_of'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&as_of=9999-01-01T00:00:00Z`, 'as_of'],
    [`/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}&week=${WEEK}`, 'week'],
    [`/api/v1/forces/${FORCE}/calls/${'c'.repeat(129)}/timeline`, 'id'],
    [`/api/v1/forces/${FORCE}/rejected?limit=0`, 'limit'],
    [`/api/v1/forces/${FORCE}/rejected?limit=1001`, 'limit'],
    [`/api/v1/forces/${FORCE}/rejected?limit=ten`, 'limit'],
    [`/api/v1/forces/${FORCE}/rejected?reason=bored`, 'reason'],
    [`/api/v1/forces/${FORCE}/rejected?cursor=nonsense`, 'cursor'],
    [
      `/api/v1/forces/${FORCE}/rejected?cursor=${Buffer.from('[1e30,1]').toString('base64url')}`,
      'cursor',
    ],
    [`/api/v1/forces/${FORCE}/rejected?from=2024-02-20T00:00:00Z&to=2024-02-19T00:00:00Z`, 'to'],
    [`/api/v1/forces/${FORCE}/data-quality?from=yesterday`, 'from'],
    [`/api/v1/forces/${FORCE}/data-quality?colour=red`, 'colour'],
    [`/api/v1/forces/${FORCE}/calls/%E0%A4%A/timeline`, 'url'],
  ])('%s → 400 naming %s', async (url, parameter) => {
    const response = await get(url, admin());
    expect(response.statusCode, response.body).toBe(400);
    expect(errorBody.parse(response.json()).parameter).toBe(parameter);
  });

  it('access is checked before parameters: no token with a bad parameter is still 401', async () => {
    expectError(await get('/api/v1/forces/NOPE/reports/weekly?week=never'), 401, 'missing');
    expectError(
      await get('/api/v1/forces/NOPE/live', fixture.token('performance', ['*'])),
      403,
      'role_not_allowed',
    );
  });

  it('an unknown route is a 404 in the same error format', async () => {
    expectError(await get('/api/v1/forces/northants/nothing', admin()), 404, 'no_route');
    expectError(await get('/api/v2'), 404, 'no_route');
  });
});

describe('operations', () => {
  it('/healthz and /readyz answer without a token', async () => {
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz')).json()).toEqual({
      status: 'ready',
      store: fixture.test.store.mode,
    });
  });

  it('/metrics counts requests by route pattern, never by force or id', async () => {
    await get(
      `/api/v1/forces/${FORCE}/calls/secret-call-id/timeline`,
      fixture.token('admin', [FORCE]),
    );
    const text = (await get('/metrics')).body;
    expect(text).toMatch(
      /callmon_api_request_duration_seconds_count\{method="GET",route="\/api\/v1\/forces\/:force\/calls\/:id\/timeline",status="404"\} [1-9]/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('secret-call-id');
  });

  it('the OpenAPI document lists every route, with 401 and 403 on each protected one', async () => {
    const document = (await get('/openapi.json')).json();
    expect(document.openapi).toBe('3.0.3');
    const paths = Object.keys(document.paths);
    for (const route of [
      '/api/v1/forces/{force}/live',
      '/api/v1/forces/{force}/reports/weekly',
      '/api/v1/forces/{force}/calls/{id}/timeline',
      '/api/v1/forces/{force}/incidents/{id}/timeline',
      '/api/v1/forces/{force}/rejected',
      '/api/v1/rejected',
      '/api/v1/forces/{force}/data-quality',
      '/api/v1/forces/{force}/acknowledgements',
    ]) {
      expect(paths).toContain(route);
      const responses = document.paths[route].get.responses;
      expect(Object.keys(responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403']));
      expect(document.paths[route].get.security).toEqual([{ bearer: [] }]);
    }
  });

  it('answers carry security headers; the CSP lets the dashboard reach socket.io on this host', async () => {
    const response = await app.inject({ url: '/healthz', headers: { host: 'callmon.local:8080' } });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' ws://callmon.local:8080 wss://callmon.local:8080");
    const odd = await app.inject({ url: '/healthz', headers: { host: 'evil;script-src *' } });
    expect(String(odd.headers['content-security-policy'])).not.toContain('evil');
  });
});

describe('store faults', () => {
  it('a failed embedded store is a 503, any other failure a 500 that reveals nothing; readyz is 503', async () => {
    let failure: Error = new StoreFailedError('engine aborted');
    const broken = await fixture.app({
      store: (store) =>
        Object.assign(Object.create(store), {
          weeklyReport: () => Promise.reject(failure),
          countEvents: () => Promise.reject(new Error('connection refused')),
        }),
    });
    try {
      const url = `/api/v1/forces/${FORCE}/reports/weekly?week=${WEEK}`;
      const headers = { authorization: `Bearer ${fixture.token('admin', [FORCE])}` };
      const failed = await broken.inject({ url, headers });
      expect(failed.statusCode).toBe(503);
      expect(errorBody.parse(failed.json()).reason).toBe('store_failed');
      failure = new Error('Code: 62. DB::Exception: Syntax error near SELECT secret_column');
      const internal = await broken.inject({ url, headers });
      expect(internal.statusCode).toBe(500);
      expect(errorBody.parse(internal.json()).reason).toBe('internal_error');
      expect(internal.body).not.toContain('secret_column');
      const ready = await broken.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(errorBody.parse(ready.json()).reason).toBe('store_unavailable');
    } finally {
      await broken.close();
    }
  });
});

describe('rate limiting', () => {
  it('past the limit a token holder gets 429 in the error format; others are unaffected', async () => {
    const limited = await fixture.app({ rateLimit: { max: 3, timeWindowMs: 60_000 } });
    try {
      const one = fixture.token('admin', [FORCE]);
      const other = fixture.token('inspector', [FORCE]);
      const url = `/api/v1/forces/${FORCE}/data-quality`;
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await limited.inject({ url, headers: { authorization: `Bearer ${one}` } })).statusCode,
        );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await limited.inject({ url, headers: { authorization: `Bearer ${one}` } });
      expect(errorBody.parse(refused.json()).reason).toBe('rate_limited');
      expect(refused.headers['retry-after']).toBeDefined();
      const fine = await limited.inject({ url, headers: { authorization: `Bearer ${other}` } });
      expect(fine.statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
