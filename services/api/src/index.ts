export { API_HELP, apiCommand } from './api-command.ts';
export { buildApi } from './build-api.ts';
export { type ApiDeps, DEFAULT_RATE_LIMIT, type RateLimit } from './deps.ts';
export { ApiError, type ErrorBody, errorBody } from './errors.ts';
export {
  engineLiveView,
  type LiveView,
  publishedLiveView,
  unavailableLiveView,
} from './live-view.ts';
export { metricsRegistry } from './metrics.ts';
export {
  acknowledgementsBody,
  dataQualityBody,
  liveSnapshotBody,
  rejectedPageBody,
  timelineBody,
  weeklyReportBody,
} from './schemas.ts';
export { TOKEN_HELP, tokenCommand } from './token-command.ts';
