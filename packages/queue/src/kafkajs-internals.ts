import { createRequire } from 'node:module';

/**
 * kafkajs's own record-batch encoder and decoders, which its public API does not export:
 * for the test and the benchmark of the record decoding patched in
 * patches/kafkajs@2.2.4.patch. Not part of the package's surface (index.ts).
 */
const require = createRequire(import.meta.url);

/** Where the installed kafkajs resolves (the patched copy's folder names its patch hash). */
export const kafkajsMain = require.resolve('kafkajs');

// biome-ignore lint/suspicious/noExplicitAny: kafkajs's internals are untyped JavaScript
const internal = (path: string): any => require(kafkajsMain.replace(/index\.js$/, path));

export const { RecordBatch } = internal('src/protocol/recordBatch/v0/index.js');
export const Record = internal('src/protocol/recordBatch/record/v0/index.js');
/** The record-batch decoder the consumer runs (patched). */
export const decodeRecordBatch = internal('src/protocol/recordBatch/v0/decoder.js');
/** Stock kafkajs's decoder of one record. */
export const RecordDecoder = internal('src/protocol/recordBatch/record/v0/decoder.js');
export const Decoder = internal('src/protocol/decoder.js');
export const Long = internal('src/utils/long.js');
/** A partition's fetched messages as the consumer hands them over (patched). */
export const Batch = internal('src/consumer/batch.js');
export const { Types: Compression } = internal('src/protocol/message/compression/index.js');
