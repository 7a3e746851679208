import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/** The journal's name in an embedded store's data folder. */
export const WRITE_JOURNAL_FILE = 'ingest-write-journal';

/**
 * The batches a run was writing, kept in a file beside the embedded store, so that the next
 * run can tell which of its batches an earlier run's crash may have cut short.
 *
 * Why: a non-replicated MergeTree logs an insert's deduplication token before it puts the
 * rows in place, so a process killed between the two leaves the token without its rows,
 * and the same batch written again (a file ingested again has the same batches, with the
 * same tokens) is dropped as a repeat. A batch named here is checked once written and what
 * is missing written again (the pipeline's `restoreDropped`). Batches are written one at a
 * time, so the file holds the one being written and any left unchecked by dead runs.
 */
export interface WriteJournal {
  /** Whether an earlier run was writing this batch when it stopped. */
  cutShort(token: string): boolean;
  /** Before a batch's first write. */
  begin(token: string): void;
  /** Once a batch is durable (and checked, if it was cut short). */
  end(token: string): void;
}

/**
 * The journal at `path` (created on the first write). Each change replaces the file whole
 * (written beside it, then renamed), so a crash leaves the old list or the new one; the
 * rename survives the process being killed, as the engine's own files do.
 */
export class FileWriteJournal implements WriteJournal {
  readonly #path: string;
  /** Left by runs that stopped while writing them; checked when this run writes them. */
  readonly #leftOver: Set<string>;
  readonly #writing = new Set<string>();

  constructor(path: string) {
    this.#path = path;
    this.#leftOver = new Set(readTokens(path));
  }

  /** The batches earlier runs left unchecked. */
  get leftOver(): readonly string[] {
    return [...this.#leftOver];
  }

  cutShort(token: string): boolean {
    return this.#leftOver.has(token);
  }

  begin(token: string): void {
    this.#writing.add(token);
    this.#save();
  }

  end(token: string): void {
    this.#writing.delete(token);
    this.#leftOver.delete(token);
    this.#save();
  }

  #save(): void {
    const tokens = new Set([...this.#leftOver, ...this.#writing]);
    const next = `${this.#path}.next`;
    writeFileSync(next, [...tokens].map((token) => `${token}\n`).join(''));
    renameSync(next, this.#path);
  }
}

function readTokens(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // No journal yet; or no data folder, which opening the store reports.
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new Error(`cannot read the ingest's write journal ${path}: ${(error as Error).message}`);
  }
  return text.split('\n').filter((token) => token.length > 0);
}
