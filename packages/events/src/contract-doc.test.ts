/**
 * docs/event-contract.md is what integrators build against: its examples must be
 * accepted and its tables must match the code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEvent, REJECT_REASONS } from './parse.ts';
import { EVENT_TYPES } from './schema.ts';

const contract = readFileSync(
  fileURLToPath(new URL('../../../docs/event-contract.md', import.meta.url)),
  'utf8',
);

function codeBlocks(language: string): string[] {
  const fence = new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g');
  return [...contract.matchAll(fence)].map((match) => match[1]!);
}

/** The body rows of the first markdown table at or after `heading`, as cell text. */
function tableAfter(heading: string): string[][] {
  const start = contract.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  for (const row of contract.slice(start).split('\n')) {
    if (!row.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    rows.push(
      row
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(2); // header and separator
}

describe('docs/event-contract.md', () => {
  const exampleLines = codeBlocks('ndjson').flatMap((block) => block.trim().split('\n'));

  it('has one example line for each of the 10 event types', () => {
    const types = exampleLines.map((line) => (JSON.parse(line) as { type: string }).type);
    expect([...types].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('every example line is accepted', () => {
    for (const line of exampleLines) {
      const result = parseEvent(line);
      expect(result.ok ? 'accepted' : `${result.reason}: ${result.detail}`, line).toBe('accepted');
    }
  });

  it('the reason-code table lists exactly REJECT_REASONS', () => {
    const codes = tableAfter('| code ').map(([code]) => code!.replaceAll('`', ''));
    expect(codes.sort()).toEqual([...REJECT_REASONS].sort());
  });

  it('the time spellings shown as one instant are one instant', () => {
    const spellings = codeBlocks('text')[0]!.trim().split('\n');
    const instants = spellings.map((at) => {
      const result = parseEvent(
        JSON.stringify({ v: 1, id: 'e', type: 'call.closed', force: 'nth', at, call: 'c' }),
      );
      return result.ok ? result.event.at : result.detail;
    });
    expect(instants).toEqual(spellings.map(() => Date.UTC(2024, 1, 19, 21, 4, 5, 123)));
  });

  it('every value in the rejected-time table is rejected as invalid_field on at', () => {
    const rows = tableAfter('Rejected, as `invalid_field` on `at`:');
    expect(rows.length).toBeGreaterThan(5);
    for (const [values] of rows) {
      for (const [, text] of values!.matchAll(/`([^`]+)`/g)) {
        const at = /^\d+$/.test(text!) ? Number(text) : text;
        const result = parseEvent(
          JSON.stringify({ v: 1, id: 'e', type: 'call.closed', force: 'nth', at, call: 'c' }),
        );
        expect(result, String(at)).toMatchObject({
          ok: false,
          reason: 'invalid_field',
          field: 'at',
        });
      }
    }
  });

  it('every example detail in the invalid_field table is the detail callmon gives', () => {
    const base = {
      v: 1,
      id: 'e',
      type: 'incident.opened',
      force: 'nth',
      at: '2024-02-19T21:04:05Z',
      incident: 'i',
      grade: 1,
      area: 'urban',
      call: 'c',
    };
    const rows = tableAfter('More examples of `invalid_field`:');
    expect(rows.length).toBeGreaterThan(3);
    for (const [input, detail] of rows) {
      const field = JSON.parse(`{${input!.replaceAll('`', '')}}`) as Record<string, unknown>;
      const result = parseEvent(JSON.stringify({ ...base, ...field }));
      expect(result.ok ? 'accepted' : result.detail, input).toBe(detail!.slice(1, -1));
    }
  });
});
