export {
  type CommandIo,
  choiceFlag,
  instantFlag,
  integerFlag,
  parseFlags,
  required,
  UsageError,
} from './command-line.ts';
