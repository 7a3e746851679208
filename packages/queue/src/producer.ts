import { Partitioners, type Producer } from 'kafkajs';
import { createKafka } from './client.ts';

export interface EventProducerOptions {
  /** Comma-separated `host:port` list. */
  brokers: string;
  topic: string;
  clientId?: string;
  /** Milliseconds to wait for a broker connection (default 3000). */
  connectionTimeoutMs?: number;
  /** Milliseconds a batch may wait for the brokers' acknowledgement (default 30 000). */
  sendTimeoutMs?: number;
  /** Messages per produce request at most (default 1000). */
  maxBatch?: number;
  /**
   * Characters of keys and values per produce request at most (default 256 Ki): a record
   * batch over the broker's `message.max.bytes` (1 MiB by default) is refused outright,
   * and a character takes at most 3 bytes of UTF-8 (a surrogate pair, 2 characters, 4).
   */
  maxBatchBytes?: number;
}

/** One Kafka message: events.md keys every event by its force. */
export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
}

/** The topic is missing: say so, and how to create it, instead of letting kafkajs retry. */
export class TopicMissingError extends Error {
  override readonly name = 'TopicMissingError';
}

/**
 * Publishes messages to one topic, in order, with an idempotent producer
 * (`maxInFlightRequests: 1`, acks from all in-sync replicas), so a retried request is
 * never written twice and never reordered.
 *
 * `publish` only buffers; one request is in flight at a time, and whatever accumulated
 * while it was travelling goes in the next. A slow trickle thus leaves message by
 * message, with no linger delay, and a fast stream leaves in full batches. `publish`
 * returns a promise to wait on when the buffer is full (backpressure); the first failed
 * request fails every later `publish` and `flush`.
 */
export class EventPublisher {
  /** Messages acknowledged by the brokers. */
  acknowledged = 0;
  private buffer: OutgoingMessage[] = [];
  private bufferedBytes = 0;
  private inFlight: Promise<void> | null = null;
  private failure: Error | null = null;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly sendTimeoutMs: number;

  private constructor(
    private readonly producer: Producer,
    readonly topic: string,
    options: EventProducerOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 256 * 1024;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
  }

  /**
   * Connect, and check that the topic exists. A dead broker fails within seconds
   * (createKafka's fail-fast timeouts), with the brokers named in the message.
   */
  static async connect(options: EventProducerOptions): Promise<EventPublisher> {
    const kafka = createKafka({
      brokers: options.brokers,
      clientId: options.clientId ?? 'callmon-producer',
      connectionTimeoutMs: options.connectionTimeoutMs,
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, so that an unreachable broker is an error within seconds; an idempotent
      // producer's retries never duplicate (the broker drops a repeated sequence number).
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 },
    });
    try {
      await producer.connect();
      const admin = kafka.admin();
      await admin.connect();
      try {
        const topics = await admin.listTopics();
        if (!topics.includes(options.topic)) {
          throw new TopicMissingError(
            `topic ${options.topic} does not exist on ${options.brokers} ` +
              `(create it with: callmon kafka init --brokers ${options.brokers} --topic ${options.topic})`,
          );
        }
      } finally {
        await admin.disconnect();
      }
    } catch (error) {
      await producer.disconnect().catch(() => {});
      if (error instanceof TopicMissingError) throw error;
      throw new Error(`cannot reach Kafka at ${options.brokers}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new EventPublisher(producer, options.topic, options);
  }

  /** Queue one message; await the result only when it is a promise (the buffer is full). */
  publish(message: OutgoingMessage): Promise<void> | undefined {
    if (this.failure !== null) throw this.failure;
    this.buffer.push(message);
    this.bufferedBytes += sizeOf(message);
    if (this.inFlight === null) this.inFlight = this.drain();
    if (this.full()) return this.waitForRoom();
    return undefined;
  }

  /** Wait until everything published so far is acknowledged. */
  async flush(): Promise<void> {
    while (this.inFlight !== null) await this.inFlight;
    if (this.failure !== null) throw this.failure;
  }

  /** Flush, then disconnect. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.producer.disconnect();
    }
  }

  /** Disconnect without waiting for what is buffered (after a failure, or on a signal). */
  async abort(): Promise<void> {
    this.buffer = [];
    this.bufferedBytes = 0;
    await this.producer.disconnect().catch(() => {});
  }

  private async waitForRoom(): Promise<void> {
    while (this.full() && this.inFlight !== null) {
      await this.inFlight;
    }
    if (this.failure !== null) throw this.failure;
  }

  private async drain(): Promise<void> {
    try {
      while (this.buffer.length > 0 && this.failure === null) {
        const batch = this.nextBatch();
        await this.send(batch);
        this.acknowledged += batch.length;
      }
    } catch (error) {
      this.failure = new Error(`publishing to ${this.topic} failed: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      this.inFlight = null;
    }
  }

  /** Two requests' worth waiting: one to send next while this one travels, one filling. */
  private full(): boolean {
    return this.buffer.length >= this.maxBatch * 2 || this.bufferedBytes >= this.maxBatchBytes * 2;
  }

  private nextBatch(): OutgoingMessage[] {
    let count = 0;
    let bytes = 0;
    while (count < this.buffer.length && count < this.maxBatch) {
      const size = sizeOf(this.buffer[count]!);
      // Always at least one message, however big: the broker then says why it is refused.
      if (count > 0 && bytes + size > this.maxBatchBytes) break;
      bytes += size;
      count++;
    }
    this.bufferedBytes -= bytes;
    return this.buffer.splice(0, count);
  }

  private async send(messages: OutgoingMessage[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no acknowledgement within ${this.sendTimeoutMs} ms`)),
        this.sendTimeoutMs,
      );
    });
    try {
      await Promise.race([this.producer.send({ topic: this.topic, acks: -1, messages }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** UTF-16 units, not bytes: cheap, and the default bound leaves room for 3 bytes each. */
function sizeOf(message: OutgoingMessage): number {
  return message.key.length + message.value.length;
}
