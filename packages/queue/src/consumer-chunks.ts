/**
 * Split one partition's fetched messages into chunks whose boundaries fall on multiples
 * of `size` offsets. A fetch starts and ends wherever the broker chose, but a chunk is
 * fixed by its offsets alone: re-read after a crash, the same offsets make the same
 * chunk (and so the same insert deduplication token) whatever the fetch around them.
 * Only the chunk at the log's end can come out shorter on one read than on another.
 */
export function offsetAlignedChunks<M extends { offset: string }>(
  messages: readonly M[],
  size: number,
): M[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error('chunk size must be a positive integer');
  const chunks: M[][] = [];
  let chunk: M[] = [];
  let slot: number | undefined;
  for (const message of messages) {
    const messageSlot = Math.floor(Number(message.offset) / size);
    if (slot !== undefined && messageSlot !== slot) {
      chunks.push(chunk);
      chunk = [];
    }
    slot = messageSlot;
    chunk.push(message);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
