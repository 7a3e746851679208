import { formatUtc } from '@callmon/events';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { rangeParameters } from '../instants.ts';
import { addRoute } from '../route.ts';
import { acknowledgementsBody, acknowledgementsQuery, forceParams, MAX_PAGE } from '../schemas.ts';

/**
 * Who acknowledged which breach of the live feed, and when, from the store: the record
 * inspectors audit (domain.md), the same whichever api node took the press. One per
 * breach, the one that stands (the first; packages/store acknowledgements.ts).
 */
export function acknowledgementRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/acknowledgements',
    summary: "The force's acknowledged breaches: who and when, oldest first",
    tags: ['audit'],
    access: { capability: 'audit', scope: 'force' },
    params: forceParams,
    query: acknowledgementsQuery,
    ok: { description: 'the acknowledgements that stand', schema: acknowledgementsBody },
    handle: async ({ params, query }) => {
      const range = rangeParameters(query);
      const limit = query.limit === undefined ? MAX_PAGE : Number(query.limit);
      // One more than asked tells whether the range holds more.
      const records = await deps.store.listAcknowledgements({
        force: params.force,
        ...range,
        limit: limit + 1,
      });
      return {
        force: params.force,
        from: range.from === undefined ? null : formatUtc(range.from),
        to: range.to === undefined ? null : formatUtc(range.to),
        items: records.slice(0, limit).map((record) => ({
          alert: record.alert,
          kind: record.kind,
          rule: record.rule,
          item: record.item,
          by: record.subject,
          role: record.role,
          at: formatUtc(record.at),
          node: record.node,
        })),
        truncated: records.length > limit,
      };
    },
  });
}
