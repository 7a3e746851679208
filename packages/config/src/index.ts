export {
  type CommandIo,
  choiceFlag,
  instantFlag,
  integerFlag,
  parseFlags,
  required,
  UsageError,
} from './command-line.ts';
export {
  type CallmonConfig,
  ConfigError,
  configSchema,
  DEFAULT_BATCH_ROWS,
  loadConfig,
} from './config.ts';
export { describeStoreTarget, type StoreTarget, storeTarget } from './store-target.ts';
export { GENERATED_SECRET_FILE, resolveTokenSecret } from './token-secret.ts';
