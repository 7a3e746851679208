export type { Pooling } from './call-handling.ts';
export { type Clock, type LiveFeedOptions, liveFeed, systemClock } from './live-feed.ts';
export type { District } from './model.ts';
export type { FaultRates, ScenarioName } from './scenarios.ts';
export { SCENARIO_DEFINITIONS, SCENARIOS } from './scenarios.ts';
export type { FaultKind, LineFault } from './sim-event.ts';
export {
  type SimulatedLine,
  type SimulateOptions,
  SimulatorOptionError,
  simulate,
} from './simulate.ts';
export { type CommandIo, simulateCommand } from './simulate-command.ts';
