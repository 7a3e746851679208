import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { addRoute } from '../route.ts';
import { forceParams, liveSnapshotBody } from '../schemas.ts';

/** metrics.md §8 from the live engine, for supervisors. */
export function liveRoutes(app: FastifyInstance, deps: ApiDeps): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/live',
    summary: "The force's live snapshot (metrics.md §8): every rolling window as of now",
    tags: ['live'],
    access: { capability: 'live', scope: 'force' },
    params: forceParams,
    ok: { description: 'the §8 snapshot', schema: liveSnapshotBody },
    errors: {
      404: 'no live state for this force yet (no event seen since the engine started)',
      503: 'this node has no live source',
    },
    handle: ({ params }) => {
      const { unavailable } = deps.liveView;
      if (unavailable !== undefined) throw new ApiError(503, 'live_unavailable', unavailable);
      const snapshot = deps.liveView.snapshot(params.force);
      if (snapshot === undefined) {
        throw new ApiError(
          404,
          'no_live_state',
          `no live state for force ${params.force}: no event of it seen since the engine started`,
        );
      }
      return snapshot;
    },
  });
}
