import type { EventPublisher } from '@callmon/queue';
import type { SimulatedLine } from './simulate.ts';

/** Called about once a second, and once at the end, with the messages acknowledged. */
export type PublishProgress = (acknowledged: number, elapsedMs: number, done: boolean) => void;

export interface PublishLinesOptions {
  /** The message key: events.md keys every event by its force, and a run is one force. */
  force: string;
  progress?: PublishProgress;
  /** Milliseconds between progress calls (default 1000). */
  progressEveryMs?: number;
}

/**
 * Publish the simulation's lines as Kafka messages, one line per message, in delivery
 * order, and wait until the brokers have acknowledged them all. A line a data fault broke
 * is published as it is: the monitor must answer it with a rejected-event record.
 * Returns the number of messages published.
 */
export async function publishLines(
  lines: Iterable<SimulatedLine> | AsyncIterable<SimulatedLine>,
  publisher: EventPublisher,
  options: PublishLinesOptions,
): Promise<number> {
  const { force, progress } = options;
  const every = options.progressEveryMs ?? 1000;
  const started = performance.now();
  let lastReport = started;
  let published = 0;
  const report = (done: boolean) => {
    const now = performance.now();
    lastReport = now;
    progress?.(publisher.acknowledged, now - started, done);
  };
  // A paced feed (liveFeed) is async and a flat-out one is not; the timer covers a paced
  // feed that sits idle between events, the check in the loop a busy synchronous one.
  const timer = progress
    ? setInterval(() => {
        if (performance.now() - lastReport >= every / 2) report(false);
      }, every)
    : undefined;
  try {
    for await (const { line } of lines) {
      const full = publisher.publish({ key: force, value: line });
      if (full !== undefined) await full;
      published++;
      if (progress && (published & 1023) === 0 && performance.now() - lastReport >= every) {
        report(false);
      }
    }
    await publisher.flush();
  } finally {
    clearInterval(timer);
  }
  report(true);
  return published;
}
