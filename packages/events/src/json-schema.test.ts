import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENT_TIME_PATTERN } from './event-time.ts';
import { eventJsonSchema, eventJsonSchemaText, JSON_SCHEMA_PATH } from './json-schema.ts';
import { contractTypes, optionalFields, requiredFields } from './test-fixtures.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

type Branch = {
  type: string;
  title: string;
  properties: Record<string, { type?: string; const?: unknown; pattern?: string }>;
  required: string[];
  additionalProperties?: unknown;
};

const branches = (eventJsonSchema() as { oneOf: Branch[] }).oneOf;

describe('JSON Schema export', () => {
  it('the committed schema file is what `pnpm schema` generates now', () => {
    const committed = readFileSync(`${repoRoot}${JSON_SCHEMA_PATH}`, 'utf8');
    expect(JSON.parse(committed), 'stale schema file: run `pnpm schema`').toEqual(
      eventJsonSchema(),
    );
    expect(committed, 'stale schema file: run `pnpm schema`').toBe(eventJsonSchemaText());
  });

  it('is draft 2020-12 with one oneOf branch per event type', () => {
    expect(eventJsonSchema().$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(branches.map((branch) => branch.properties.type?.const)).toEqual(contractTypes);
  });

  it.each(contractTypes)('the %s branch requires exactly the fields of events.md', (type) => {
    const branch = branches.find((b) => b.properties.type?.const === type)!;
    expect(branch.title).toBe(type);
    expect([...branch.required].sort()).toEqual([...requiredFields[type]].sort());
    expect(Object.keys(branch.properties).sort()).toEqual(
      [...requiredFields[type], 'source', ...Object.keys(optionalFields[type])]
        .filter((field, i, all) => all.indexOf(field) === i)
        .sort(),
    );
  });

  it('allows unknown extra fields, as the contract does', () => {
    for (const branch of branches) expect(branch.additionalProperties).toBeUndefined();
  });

  it('describes the wire form: at is a string with the RFC 3339 pattern', () => {
    for (const branch of branches) {
      expect(branch.properties.at).toMatchObject({
        type: 'string',
        format: 'date-time',
        pattern: EVENT_TIME_PATTERN,
      });
    }
  });

  it('the at pattern accepts the spellings the parser accepts and rejects the forms it rejects', () => {
    const pattern = new RegExp(EVENT_TIME_PATTERN);
    for (const at of [
      '2024-02-19T21:04:05.123Z',
      '2024-02-19T22:04:05.1+01:00',
      '2024-02-19T15:34:05-05:30',
      '2024-02-19t21:04:05z',
    ]) {
      expect(pattern.test(at), at).toBe(true);
    }
    for (const at of [
      '2024-02-19T21:04:05',
      '2024-02-19',
      '2024-02-19 21:04:05Z',
      '2024-02-19T21:04:05.1234Z',
      '2024-02-19T21:04:05+0100',
    ]) {
      expect(pattern.test(at), at).toBe(false);
    }
  });
});
