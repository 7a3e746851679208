import type { KafkaMessage } from 'kafkajs';
import { messageOffset } from './message-bytes.ts';

/**
 * Split one partition's fetched messages into chunks whose boundaries fall on multiples
 * of `size` offsets. A fetch starts and ends wherever the broker chose, but a chunk is
 * fixed by its offsets alone: re-read after a crash, the same offsets make the same
 * chunk (and so the same insert deduplication token) whatever the fetch around them.
 * Only the chunk at the log's end can come out shorter on one read than on another.
 */
export function offsetAlignedChunks<M extends Pick<KafkaMessage, 'offset'>>(
  messages: readonly M[],
  size: number,
): M[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error('chunk size must be a positive integer');
  const chunks: M[][] = [];
  // Cut where the slot changes: one slice a chunk, not a push a message.
  let from = 0;
  let slot = 0;
  for (let index = 0; index < messages.length; index++) {
    const messageSlot = Math.floor(messageOffset(messages[index]!) / size);
    if (index > from && messageSlot !== slot) {
      chunks.push(messages.slice(from, index));
      from = index;
    }
    slot = messageSlot;
  }
  if (from < messages.length) chunks.push(messages.slice(from));
  return chunks;
}
