import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileWriteJournal } from './write-journal.ts';

const folder = mkdtempSync(join(tmpdir(), 'callmon-write-journal-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;
const journalPath = () => join(folder, `journal-${files++}`);

describe('the write journal', () => {
  it('names nothing when there is no file yet, and creates none until a write begins', () => {
    const path = journalPath();
    const journal = new FileWriteJournal(path);
    expect(journal.leftOver).toEqual([]);
    expect(journal.cutShort('file:a:0:1-10:x')).toBe(false);
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });

  it('names the batch being written to the next run, as cut short, until it ends', () => {
    const path = journalPath();
    const crashed = new FileWriteJournal(path);
    crashed.begin('file:a:0:1-10:x');
    crashed.end('file:a:0:1-10:x');
    crashed.begin('file:a:0:11-20:y');
    // The process dies here: the next run finds the batch it was writing, and only that.
    const next = new FileWriteJournal(path);
    expect(next.leftOver).toEqual(['file:a:0:11-20:y']);
    expect(next.cutShort('file:a:0:11-20:y')).toBe(true);
    expect(next.cutShort('file:a:0:1-10:x')).toBe(false);
    next.begin('file:a:0:11-20:y');
    next.end('file:a:0:11-20:y');
    expect(new FileWriteJournal(path).leftOver).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('keeps what an earlier run left while this run writes other batches, and across crashes', () => {
    const path = journalPath();
    writeFileSync(path, 'file:a:0:11-20:y\n');
    const other = new FileWriteJournal(path);
    other.begin('file:b:0:1-10:z');
    other.end('file:b:0:1-10:z');
    other.begin('file:b:0:11-20:w');
    // Another crash: both the first run's batch and this one's are left.
    expect([...new FileWriteJournal(path).leftOver].sort()).toEqual([
      'file:a:0:11-20:y',
      'file:b:0:11-20:w',
    ]);
  });

  it('says which journal it cannot read', () => {
    const path = journalPath();
    mkdirSync(path);
    expect(() => new FileWriteJournal(path)).toThrow(
      new RegExp(`cannot read the ingest's write journal ${path}: EISDIR`),
    );
  });
});
