// Run by consumer-exit.test.ts in its own process: a BatchConsumer with --exit-when-idle
// semantics (idleMs) whose JoinGroup the broker refuses. Prints how `done` settled and
// then leaves the event loop to end the process — any timer left running keeps it alive.
import { BatchConsumer, createKafka } from '../src/index.ts';

const [brokers = '', topic = ''] = process.argv.slice(2);
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const member = await BatchConsumer.start({
  kafka: createKafka({ brokers, clientId: 'callmon-refused-join' }),
  groupId: `callmon-refused-join-${process.pid}`,
  topic,
  chunkMessages: 10,
  handle: async () => {},
  log: silent,
  idleMs: 500,
  // Below the broker's minimum: JoinGroup answers INVALID_SESSION_TIMEOUT.
  sessionTimeoutMs: 1000,
});
try {
  console.log(`done resolved: ${await member.done}`);
} catch (error) {
  console.log(`done rejected: ${(error as Error).message}`);
}
