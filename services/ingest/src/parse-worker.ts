import { parentPort } from 'node:worker_threads';
import { type ParseRequest, parseLines } from './parse-workers.ts';

/**
 * A worker thread of {@link ParseWorkers}: parses, fingerprints and encodes each batch
 * of lines it is sent (`parseLines`), so that the ingest's own thread only decides and
 * writes.
 */
parentPort!.on('message', (request: ParseRequest) => {
  parentPort!.postMessage(...parseLines(request));
});
