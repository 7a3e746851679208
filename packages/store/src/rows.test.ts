import {
  eventFingerprint,
  parseEvent,
  plainFingerprintLength,
  scanPlainEvent,
} from '@callmon/events';
import { describe, expect, it } from 'vitest';
import { RowBinaryWriter } from './row-binary.ts';
import { encodeEventRow, encodePlainEventRow } from './rows.ts';
import { generateEvents, toWire } from './testing.ts';

/** The LEB128 length and bytes of a RowBinary String, as ClickHouse reads it. */
function stringAt(bytes: Uint8Array, at: number): { value: Uint8Array; end: number } {
  let size = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++]!;
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) break;
  }
  return { value: bytes.subarray(at, at + size), end: at + size };
}

describe('RowBinaryWriter', () => {
  it('writes a String reserved and filled in place like one copied in, whatever its length', () => {
    for (const size of [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]) {
      const value = Buffer.alloc(size, 0x61 + (size % 26));
      const copied = new RowBinaryWriter(8);
      copied.uint8(7);
      copied.stringFrom(value, 0, size);
      copied.uint8(9);
      const reserved = new RowBinaryWriter(8);
      reserved.uint8(7);
      const at = reserved.reserveString(size);
      reserved.target.set(value, at);
      reserved.uint8(9);
      expect(Buffer.compare(reserved.bytes, copied.bytes), `size ${size}`).toBe(0);
      const read = stringAt(reserved.bytes, 1);
      expect(read.value.length).toBe(size);
      expect(read.end).toBe(at + size);
    }
  });
});

describe('plain event rows', () => {
  it('are the rows of the parsed events, byte for byte, with the fingerprint where it says', () => {
    const position = { kind: 'kafka' as const, name: 'events', partition: 3, offset: 0 };
    let plain = 0;
    for (const event of generateEvents({
      force: 'rows-test',
      start: Date.UTC(2024, 4, 1),
      count: 400,
    })) {
      const line = Buffer.from(JSON.stringify(toWire(event)));
      const parsed = parseEvent(line);
      if (!parsed.ok) throw new Error(parsed.detail);
      position.offset++;
      const fromEvent = new RowBinaryWriter(64);
      encodeEventRow(fromEvent, {
        event: parsed.event,
        raw: line.toString(),
        rawBytes: line,
        arrivedAt: 1_700_000_000_000 + position.offset,
        position,
      });
      // The line inside a larger buffer, as a batch's lines are.
      const framed = Buffer.concat([Buffer.from('xx\n'), line, Buffer.from('\nyy')]);
      expect(scanPlainEvent(framed, 3, 3 + line.length)).toBe(true);
      plain++;
      const fromBytes = new RowBinaryWriter(64);
      fromBytes.uint8(5); // a row before it: positions count from the writer's start
      const fingerprint = encodePlainEventRow(
        fromBytes,
        framed,
        3,
        3 + line.length,
        plainFingerprintLength(),
        1_700_000_000_000 + position.offset,
        position,
      );
      expect(Buffer.compare(fromBytes.bytes.subarray(1), fromEvent.bytes)).toBe(0);
      const expected = eventFingerprint(parsed.event);
      expect(
        fromBytes.bytes.subarray(fingerprint, fingerprint + plainFingerprintLength()).toString(),
      ).toBe(expected);
    }
    expect(plain).toBe(400);
  });
});
