export { createKafka, type KafkaClientOptions, parseBrokers } from './client.ts';
export { DEFAULT_PARTITIONS, EVENTS_TOPIC, LIVE_TOPIC } from './topics.ts';
