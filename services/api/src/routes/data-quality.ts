import { formatUtc } from '@callmon/events';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { rangeParameters } from '../instants.ts';
import { addRoute } from '../route.ts';
import { dataQualityBody, dataQualityQuery, forceParams } from '../schemas.ts';

/**
 * What came in for a force and what became of it, from the store alone. The figures
 * the store cannot give honestly over any range are left to the weekly report
 * (`data_quality`: orphans, negative durations); see the README for each definition.
 */
export function dataQualityRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/data-quality',
    summary: 'Accepted, duplicate, conflicting and rejected inputs of the force',
    tags: ['audit'],
    access: { capability: 'audit', scope: 'force' },
    params: forceParams,
    query: dataQualityQuery,
    ok: { description: 'the counts', schema: dataQualityBody },
    handle: async ({ params, query }) => {
      const range = rangeParameters(query);
      const { force } = params;
      const [accepted, byReason] = await Promise.all([
        deps.store.countEvents({ force, ...range }),
        deps.store.countRejected({ force, ...range }),
      ]);
      const rejected: Record<string, number> = {};
      let total = 0;
      for (const [reason, n] of byReason) {
        if (reason === 'duplicate' || reason === 'conflict') continue;
        rejected[reason] = n;
        total += n;
      }
      return {
        force,
        from: range.from === undefined ? null : formatUtc(range.from),
        to: range.to === undefined ? null : formatUtc(range.to),
        accepted_events: accepted,
        duplicates: byReason.get('duplicate') ?? 0,
        conflicts: byReason.get('conflict') ?? 0,
        rejected,
        rejected_total: total,
      };
    },
  });
}
