import { CalendarError, isoWeekWindow } from '@callmon/compliance';
import { weeklyReportCsv, weeklyReportHtml } from '@callmon/reports';
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../deps.ts';
import { badParameter } from '../errors.ts';
import { instantParameter } from '../instants.ts';
import { addRoute } from '../route.ts';
import { forceParams, weeklyReportBody, weeklyReportQuery } from '../schemas.ts';
import type { WeekFactsRefresher } from '../week-facts-refresher.ts';

/** metrics.md §7 from the store, for the performance team and inspectors. */
export function reportRoutes(
  app: FastifyInstance,
  deps: ApiDeps,
  weekFacts?: WeekFactsRefresher,
): void {
  addRoute(app, {
    url: '/api/v1/forces/:force/reports/weekly',
    summary: "The force's weekly report (metrics.md §7) as JSON, CSV or a printable HTML page",
    tags: ['reports'],
    access: { capability: 'report', scope: 'force' },
    params: forceParams,
    query: weeklyReportQuery,
    ok: {
      description: 'the report; CSV has one figure per row, HTML is a printable page',
      schema: weeklyReportBody,
      text: ['text/csv', 'text/html'],
    },
    handle: async ({ params, query, reply }) => {
      try {
        isoWeekWindow(query.week, deps.policy.timezone);
      } catch (error) {
        if (error instanceof CalendarError) throw badParameter('week', error.message);
        throw error;
      }
      const asOf =
        query.as_of === undefined ? deps.clock.now() : instantParameter(query.as_of, 'as_of');
      const report = await deps.store.weeklyReport({
        force: params.force,
        week: query.week,
        asOf,
        policy: deps.policy,
      });
      weekFacts?.reported(params.force, query.week);
      const format = query.format ?? 'json';
      if (format === 'csv')
        return reply.type('text/csv; charset=utf-8').send(weeklyReportCsv(report));
      if (format === 'html') {
        return reply.type('text/html; charset=utf-8').send(weeklyReportHtml(report));
      }
      return report;
    },
  });
}
