export { COMMANDS, type Command } from './commands.ts';
export { main } from './main.ts';
