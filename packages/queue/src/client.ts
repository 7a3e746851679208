import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

export interface KafkaClientOptions {
  /** Comma-separated `host:port` list, as `KAFKA_BROKERS` and `--kafka` give it. */
  brokers: string;
  clientId: string;
  /** Milliseconds to wait for a broker connection before failing (default 3000). */
  connectionTimeoutMs?: number;
}

/** `host:port,host:port` → the broker list, or an error naming the bad entry. */
export function parseBrokers(brokers: string): string[] {
  const list = brokers
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  if (list.length === 0)
    throw new Error('no Kafka brokers given (expected host:port[,host:port…])');
  for (const broker of list) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker)) {
      throw new Error(`invalid Kafka broker "${broker}" (expected host:port)`);
    }
  }
  return list;
}

/**
 * A kafkajs client with fail-fast timeouts: kafkajs's stock retry schedule waits minutes
 * before reporting an unreachable broker, which hides outages from operators and tests.
 * kafkajs's own console logger is silenced; callers log what matters through pino.
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: parseBrokers(options.brokers),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
    logLevel: logLevel.NOTHING,
  };
  return new Kafka(config);
}
