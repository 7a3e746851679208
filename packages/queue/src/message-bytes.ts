import type { KafkaMessage } from 'kafkajs';

/**
 * A fetched message's offset and value, read without the strings and buffer slices
 * kafkajs's API makes for them. A record decoded by the patched decoder
 * (patches/README.md) holds its offset as a number and its value as a range of the
 * fetched bytes; these read those where they are, and kafkajs's own fields otherwise
 * (a record decoded the original way, one whose field was set, a test's plain object),
 * so every message gives the same answer as `Number(message.offset)` and `message.value`.
 */
interface PatchedRecord {
  _offset?: number;
  _buffer?: Buffer;
  _valueStart?: number;
  _valueLength?: number;
  /** Fields made on first read or set: those win over the ranges. */
  _made?: { offset?: string; value?: Buffer | null };
}

/** The message's offset as a number (offsets stay far below 2^53). */
export function messageOffset(message: Pick<KafkaMessage, 'offset'>): number {
  const record = message as PatchedRecord;
  if (typeof record._offset === 'number' && record._made?.offset === undefined) {
    return record._offset;
  }
  return Number(message.offset);
}

/**
 * The message as a patched record whose value is still the range it was decoded with
 * (not read as a Buffer yet, not set since), or undefined when `message.value` must be read.
 */
function valueRange(message: KafkaMessage): Required<Omit<PatchedRecord, '_made'>> | undefined {
  const record = message as PatchedRecord;
  if (record._buffer === undefined) return undefined;
  if (record._made !== undefined && 'value' in record._made) return undefined;
  return record as Required<Omit<PatchedRecord, '_made'>>;
}

/** How many bytes the message's value has (0 for a null value). */
export function messageValueLength(message: KafkaMessage): number {
  const range = valueRange(message);
  if (range !== undefined) return Math.max(0, range._valueLength);
  return message.value?.byteLength ?? 0;
}

/** Copy the message's value into `target` at `at`; returns the bytes copied. */
export function copyMessageValue(message: KafkaMessage, target: Uint8Array, at: number): number {
  const range = valueRange(message);
  if (range !== undefined) {
    const length = range._valueLength;
    if (length <= 0) return 0;
    const source = range._buffer;
    // Through a bare view, as cheap as Buffer#copy and ≈ 3–5× cheaper than a byte loop for
    // event-sized values (bench/value-copy.bench.ts).
    target.set(new Uint8Array(source.buffer, source.byteOffset + range._valueStart, length), at);
    return length;
  }
  const value = message.value;
  if (value === null || value.byteLength === 0) return 0;
  target.set(value, at);
  return value.byteLength;
}
