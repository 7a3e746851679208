import {
  dataQualityBody,
  errorBody,
  liveSnapshotBody,
  rejectedPageBody,
  timelineBody,
  weeklyReportBody,
} from '@callmon/api';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What the API's body schemas are (zod), structurally: the test package has no zod of its own. */
interface ZodType {
  safeParse(value: unknown): { success: boolean; error?: { message: string } };
  parse(value: unknown): unknown;
}

import { type ApiFixture, FORCE, openApiFixture, SECRET } from './support/api-fixture.ts';

/**
 * Bad input gets an answer, never a 500: arbitrary path segments and query values on
 * every route, with a token that may use them all. Every answer is a documented status
 * whose body matches its schema.
 */

let fixture: ApiFixture;
let app: FastifyInstance;
const logLines: string[] = [];

beforeAll(async () => {
  fixture = await openApiFixture();
  // Debug level, everything kept: the secret and tokens must appear nowhere in it.
  const log = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
  app = await fixture.app({ log });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await fixture?.cleanup();
});

const segment = fc.oneof(
  fc.constantFrom(FORCE, 'wmp', 'northants-c1', 'northants-i3', '', '..', '%', '%zz', ' '),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ minLength: 120, maxLength: 260 }),
);
const value = fc.oneof(
  fc.constantFrom('2024-W08', '2024-W53', '0000-W01', '9999-W52', 'json', 'csv', 'html', 'pdf'),
  fc.constantFrom('2024-02-20T00:00:00Z', '2024-02-30T00:00:00Z', '1969-12-31T23:59:59Z'),
  fc.constantFrom('0', '1', '1000', '1001', '-1', '1e3', 'invalid_json', 'duplicate'),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.string({ maxLength: 30 }),
);
const KEYS = ['week', 'as_of', 'format', 'reason', 'from', 'to', 'limit', 'cursor', 'x'];
const query = fc.array(fc.tuple(fc.constantFrom(...KEYS), value), { maxLength: 4 });

const ROUTES: Array<{ path: (a: string, b: string) => string; ok: ZodType | 'text' }> = [
  { path: (f) => `/api/v1/forces/${f}/live`, ok: liveSnapshotBody },
  { path: (f) => `/api/v1/forces/${f}/reports/weekly`, ok: weeklyReportBody },
  { path: (f, id) => `/api/v1/forces/${f}/calls/${id}/timeline`, ok: timelineBody },
  { path: (f, id) => `/api/v1/forces/${f}/incidents/${id}/timeline`, ok: timelineBody },
  { path: (f) => `/api/v1/forces/${f}/rejected`, ok: rejectedPageBody },
  { path: () => '/api/v1/rejected', ok: rejectedPageBody },
  { path: (f) => `/api/v1/forces/${f}/data-quality`, ok: dataQualityBody },
];

describe('parameter fuzzing', () => {
  it('every answer is a documented status with a body of its schema', async () => {
    const token = fixture.token('admin', ['*']);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(ROUTES.length - 1),
        segment,
        segment,
        query,
        fc.boolean(),
        async (index, a, b, pairs, encode) => {
          const route = ROUTES[index]!;
          const part = (text: string) => (encode ? encodeURIComponent(text) : text);
          const search = pairs
            .map(([key, text]) => `${key}=${encode ? encodeURIComponent(text) : text}`)
            .join('&');
          const url = `${route.path(part(a), part(b))}${search === '' ? '' : `?${search}`}`;
          const response = await app.inject({
            method: 'GET',
            url,
            headers: { authorization: `Bearer ${token}` },
          });
          expect([200, 400, 404, 503], `${url}: ${response.body}`).toContain(response.statusCode);
          const type = String(response.headers['content-type']);
          if (response.statusCode !== 200) {
            expect(errorBody.safeParse(response.json()).success, url).toBe(true);
          } else if (type.startsWith('application/json')) {
            const parsed = (route.ok as ZodType).safeParse(response.json());
            expect(parsed.success, `${url}: ${parsed.error?.message}`).toBe(true);
          } else {
            expect(type).toMatch(/^text\/(csv|html)/);
          }
        },
      ),
      { numRuns: Number(process.env.API_FUZZ_RUNS ?? 400), seed: 7 },
    );
  });

  it('answers to the right token match their schemas', async () => {
    const token = fixture.token('admin', [FORCE]);
    const call = (fixture.duplicated as unknown as { call: string }).call;
    for (const [url, schema] of [
      [`/api/v1/forces/${FORCE}/live`, liveSnapshotBody],
      [`/api/v1/forces/${FORCE}/reports/weekly?week=2024-W08`, weeklyReportBody],
      [`/api/v1/forces/${FORCE}/calls/${call}/timeline`, timelineBody],
      [`/api/v1/forces/${FORCE}/rejected?limit=2`, rejectedPageBody],
      [`/api/v1/forces/${FORCE}/data-quality`, dataQualityBody],
    ] as const) {
      const response = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(200);
      expect(() => (schema as ZodType).parse(response.json()), url).not.toThrow();
    }
  });
});

describe('secrets in logs', () => {
  it('neither the token secret nor any token appears in the debug log', async () => {
    const token = fixture.token('admin', [FORCE]);
    await app.inject({
      url: `/api/v1/forces/${FORCE}/live`,
      headers: { authorization: `Bearer ${token}` },
    });
    await app.inject({
      url: `/api/v1/forces/${FORCE}/live`,
      headers: { authorization: `Bearer ${token}x` },
    });
    await app.inject({ url: '/nowhere', headers: { authorization: `Bearer ${token}` } });
    const text = logLines.join('');
    expect(text).toMatch(/"level":20/);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(token.split('.')[2]!);
    expect(text).not.toContain(token.split('.')[1]!);
  });
});
