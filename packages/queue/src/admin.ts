import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
}

export interface EnsureTopicsOptions {
  /**
   * Copies of each partition. Default: 3, or fewer when the cluster has fewer brokers
   * (kafkajs speaks CreateTopics v3 at most, which cannot ask for the broker's default).
   */
  replicationFactor?: number;
}

/** What `ensureTopics` found or did for one topic. */
export interface TopicOutcome {
  topic: string;
  /** True when this call created the topic; false when it already existed. */
  created: boolean;
  /** The topic's partition count now (an existing topic keeps its own). */
  partitions: number;
}

/**
 * Create the topics that do not exist yet and report every topic's partition count. Idempotent: a
 * second run creates nothing. An existing topic is never altered: adding partitions would
 * move forces to other partitions and break their per-force order (events.md), so a
 * different count is reported, not "fixed".
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<TopicOutcome[]> {
  for (const spec of specs) {
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new Error(`topic ${spec.topic}: partitions must be a positive integer`);
    }
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const replicationFactor =
      options.replicationFactor ?? Math.min(3, (await admin.describeCluster()).brokers.length);
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    const createdNow = new Set<string>();
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor,
          })),
          waitForLeaders: true,
        });
        for (const spec of missing) createdNow.add(spec.topic);
      } catch (error) {
        // Another `kafka init` (or an auto-create) got there between list and create:
        // the topic exists, which is what was asked for.
        if (!isTopicExists(error)) throw error;
      }
    }
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    const partitions = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    return specs.map((spec) => ({
      topic: spec.topic,
      created: createdNow.has(spec.topic),
      partitions: partitions.get(spec.topic) ?? 0,
    }));
  } finally {
    await admin.disconnect();
  }
}

function isTopicExists(error: unknown): boolean {
  const e = error as { type?: string; errors?: { type?: string }[] };
  if (e.type === 'TOPIC_ALREADY_EXISTS') return true;
  return (
    Array.isArray(e.errors) &&
    e.errors.length > 0 &&
    e.errors.every((inner) => inner.type === 'TOPIC_ALREADY_EXISTS')
  );
}
