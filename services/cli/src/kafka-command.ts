import { type CommandIo, integerFlag, loadConfig, parseFlags, UsageError } from '@callmon/config';
import {
  createKafka,
  DEFAULT_PARTITIONS,
  ensureTopics,
  LIVE_TOPIC,
  parseBrokers,
} from '@callmon/queue';

export const KAFKA_HELP = `Usage: callmon kafka init --brokers B [--topic T] [--partitions N]
                        [--live-topic L] [--replication-factor R]

Create callmon's topics on a Kafka cluster: the events topic and the breach/snapshot
topic (${LIVE_TOPIC}). Idempotent: topics that exist are left as they are (their
partition count is printed; it is never changed, since that would move forces between
partitions and break their order).

Options:
  --brokers B               host:port[,host:port…] (env KAFKA_BROKERS)
  --topic T                 the events topic (default callmon.events.v1, env CALLMON_KAFKA_TOPIC)
  --live-topic L            the breach/snapshot topic (default ${LIVE_TOPIC})
  --partitions N            partitions of a topic created now (default ${DEFAULT_PARTITIONS})
  --replication-factor R    copies of each partition (default 3, or the number of
                            brokers if fewer)
  --help                    this text
`;

/** `callmon kafka init`: 0 topics exist, 1 Kafka failed, 2 usage. */
export async function kafkaCommand(argv: string[], io: CommandIo): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    io.stdout.write(KAFKA_HELP);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'init') throw new UsageError(`unknown action "${action}" (expected: init)`);
  const { values } = parseFlags(rest, {
    brokers: { type: 'string' },
    topic: { type: 'string' },
    'live-topic': { type: 'string' },
    partitions: { type: 'string' },
    'replication-factor': { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(KAFKA_HELP);
    return 0;
  }
  const config = loadConfig({
    overrides: { kafkaBrokers: values.brokers, kafkaTopic: values.topic },
  });
  const brokers = config.kafkaBrokers;
  if (brokers === undefined || brokers === '') {
    throw new UsageError('--brokers is required (or set KAFKA_BROKERS)');
  }
  try {
    parseBrokers(brokers);
  } catch (error) {
    throw new UsageError(`--brokers: ${(error as Error).message}`);
  }
  const partitions =
    values.partitions === undefined
      ? DEFAULT_PARTITIONS
      : integerFlag(values.partitions, 'partitions', 1, 10_000);
  const replicationFactor =
    values['replication-factor'] === undefined
      ? undefined
      : integerFlag(values['replication-factor'], 'replication-factor', 1, 32);

  const liveTopic = values['live-topic'] ?? LIVE_TOPIC;
  if (liveTopic === '' || liveTopic === config.kafkaTopic) {
    throw new UsageError('--live-topic must be a topic name other than the events topic');
  }

  const kafka = createKafka({ brokers, clientId: 'callmon-kafka-init' });
  try {
    const outcomes = await ensureTopics(
      kafka,
      [
        { topic: config.kafkaTopic, partitions },
        { topic: liveTopic, partitions },
      ],
      { replicationFactor },
    );
    for (const outcome of outcomes) {
      io.stdout.write(
        `${outcome.topic}: ${outcome.created ? 'created' : 'exists'}, ${outcome.partitions} partitions\n`,
      );
    }
    return 0;
  } catch (error) {
    io.stderr.write(`callmon kafka init: Kafka at ${brokers}: ${(error as Error).message}\n`);
    return 1;
  }
}
