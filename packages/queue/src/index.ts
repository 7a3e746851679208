export {
  type EnsureTopicsOptions,
  ensureTopics,
  type TopicOutcome,
  type TopicSpec,
} from './admin.ts';
export { createKafka, type KafkaClientOptions, parseBrokers } from './client.ts';
export {
  BatchConsumer,
  type BatchConsumerOptions,
  type ChunkContext,
  type ConsumerLog,
  ConsumerStoppingError,
  type PartitionChunk,
  type StopReason,
} from './consumer.ts';
export { offsetAlignedChunks } from './consumer-chunks.ts';
export {
  ConsumerMetrics,
  type ConsumerMetricsSnapshot,
  type PartitionMetrics,
} from './consumer-metrics.ts';
export { copyMessageValue, messageOffset, messageValueLength } from './message-bytes.ts';
export {
  type EventProducerOptions,
  EventPublisher,
  type OutgoingMessage,
  TopicMissingError,
} from './producer.ts';
export { DEFAULT_PARTITIONS, EVENTS_TOPIC, LIVE_TOPIC } from './topics.ts';
