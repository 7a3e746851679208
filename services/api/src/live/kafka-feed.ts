import type { EventEmitter } from 'node:events';
import type { LiveAlert, LiveEngine, LiveSnapshot } from '@callmon/compliance';
import { createKafka, EventPublisher, type OutgoingMessage } from '@callmon/queue';
import { z } from 'zod';
import { embeddedLiveFeed } from './embedded-feed.ts';
import type { LiveBoard, LiveFeed, LiveFeedListener } from './live-feed.ts';

/**
 * The distributed mode's live fan-out (architecture.md): the node that owns a force's
 * live engine publishes its boards and alerts to the live topic (`callmon.live.v1`, key =
 * force, so one force's messages stay in order); every api node reads the whole topic and
 * serves the same view from it.
 */

/** One message on the live topic. The board and alert are the engine's own JSON. */
const liveMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('board'),
    board: z.looseObject({
      force: z.string().min(1),
      now: z.number(),
      snapshot: z.object({}).loose(),
    }),
  }),
  z.object({
    type: z.literal('alert'),
    alert: z.looseObject({ force: z.string().min(1), kind: z.enum(['breach', 'cleared']) }),
  }),
]);

/** The message for a board or an alert. */
export function liveMessage(
  item: { type: 'board'; board: LiveBoard } | { type: 'alert'; alert: LiveAlert },
): OutgoingMessage {
  const force = item.type === 'board' ? item.board.force : item.alert.force;
  return { key: force, value: JSON.stringify(item) };
}

/** Where the publisher sends: packages/queue's EventPublisher has this shape. */
export interface LiveSink {
  publish(message: OutgoingMessage): Promise<void> | undefined;
}

/**
 * Publish a feed (on the ingest node, the embedded feed over its live engines) to the
 * live topic. Returns the unsubscribe function. A failed publish surfaces on the sink's
 * next publish/flush (EventPublisher fails every later call), for the service to act on.
 */
export function publishLiveFeed(feed: LiveFeed, sink: LiveSink): () => void {
  return feed.subscribe({
    board: (board) => void sink.publish(liveMessage({ type: 'board', board })),
    alert: (alert) => void sink.publish(liveMessage({ type: 'alert', alert })),
  });
}

export interface KafkaLiveFeedOptions {
  brokers: string;
  topic: string;
  /** Unique per api node: every node must read every message. */
  groupId: string;
  log: { warn(object: object, message?: string): void };
}

/**
 * A LiveFeed over the live topic: the latest board per force, alerts as they come. A
 * message that is not a board or an alert is logged and skipped (a node never stops on
 * bad input). Starts at the topic's end: a node that joins late gets each force's next
 * board (within a second) and the alerts from then on.
 */
export async function kafkaLiveFeed(
  options: KafkaLiveFeedOptions,
): Promise<LiveFeed & { close(): Promise<void> }> {
  const boards = new Map<string, LiveBoard>();
  const listeners = new Set<LiveFeedListener>();
  const kafka = createKafka({ brokers: options.brokers, clientId: 'callmon-api-live' });
  const consumer = kafka.consumer({ groupId: options.groupId });
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: false });
  // Joining the group and taking the partitions takes a moment; until then nothing flows.
  const joined = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      resolve();
    });
  });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      let parsed: z.infer<typeof liveMessageSchema>;
      try {
        const result = liveMessageSchema.safeParse(JSON.parse(message.value?.toString() ?? ''));
        if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'invalid');
        parsed = result.data;
      } catch (error) {
        options.log.warn(
          {
            topic: options.topic,
            partition,
            offset: message.offset,
            reason: (error as Error).message,
          },
          'skipped a message on the live topic that is not a board or an alert',
        );
        return;
      }
      if (parsed.type === 'board') {
        const board = parsed.board as unknown as LiveBoard;
        boards.set(board.force, board);
        for (const listener of listeners) listener.board(board);
      } else {
        const alert = parsed.alert as unknown as LiveAlert;
        for (const listener of listeners) listener.alert(alert);
      }
    },
  });
  await joined;
  return {
    forces: () => [...boards.keys()].sort(),
    board: (force) => boards.get(force),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await consumer.disconnect();
    },
  };
}

export interface LivePublisherOptions {
  brokers: string;
  topic: string;
  /** The ingest member's live bus (services/ingest LiveBus), structurally. */
  bus: EventEmitter<{ alert: [LiveAlert]; snapshot: [LiveSnapshot] }>;
  /** Its live engines by force (LiveState.engines); forces come and go with partitions. */
  engines: ReadonlyMap<string, LiveEngine>;
  /** Publish every force's board this often (default 1000 ms: the channel's own pace). */
  boardEveryMs?: number;
  log: { warn(object: object, message?: string): void };
}

/**
 * The ingest side of the distributed live view: every breach and clear as it fires, and
 * each owned force's board once a second, to the live topic. A publish that fails is
 * logged; the live view is transient (the store holds the events), so it never stops
 * ingestion, and the next board repairs the view.
 */
export async function startLivePublisher(
  options: LivePublisherOptions,
): Promise<() => Promise<void>> {
  const connect = () =>
    EventPublisher.connect({
      brokers: options.brokers,
      topic: options.topic,
      clientId: 'callmon-live-publisher',
    });
  // A missing topic or unreachable broker at start is the operator's to fix: fail then.
  let publisher = await connect();
  let reconnecting: Promise<void> | undefined;
  const failed = (error: Error) => {
    if (reconnecting !== undefined) return;
    options.log.warn({ reason: error.message }, 'live topic publish failed; reconnecting');
    const broken = publisher;
    reconnecting = broken
      .abort()
      .then(connect)
      .then((fresh) => {
        publisher = fresh;
      })
      .catch((reason: Error) => {
        options.log.warn({ reason: reason.message }, 'live topic reconnect failed');
      })
      .finally(() => {
        reconnecting = undefined;
      });
  };
  const sink: LiveSink = {
    publish(message) {
      try {
        return publisher.publish(message)?.catch(failed);
      } catch (error) {
        failed(error as Error);
        return undefined;
      }
    },
  };
  const feed = embeddedLiveFeed({ bus: options.bus, engines: options.engines });
  const unsubscribe = publishLiveFeed(feed, sink);
  const timer = setInterval(() => {
    for (const engine of options.engines.values()) options.bus.emit('snapshot', engine.snapshot());
  }, options.boardEveryMs ?? 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    unsubscribe();
    feed.close();
    await reconnecting;
    await publisher.close();
  };
}
