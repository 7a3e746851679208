import { z } from 'zod';
import { CONTRACT_VERSION, callmonEvent } from './schema.ts';

/** Where `pnpm schema` writes the contract's JSON Schema, relative to the repository root. */
export const JSON_SCHEMA_PATH = `docs/schema/callmon-event-v${CONTRACT_VERSION}.schema.json`;

/**
 * The wire form of one event as JSON Schema (draft 2020-12), generated from the zod
 * schemas so the two cannot drift. Input side, because `at` travels as a string.
 * Unknown extra fields are allowed, as the contract says. A schema cannot express
 * everything `parseEvent` checks (real calendar dates, the size limit); where they
 * differ, `parseEvent` decides.
 */
export function eventJsonSchema(): Record<string, unknown> {
  const { $schema, ...body } = z.toJSONSchema(callmonEvent, { io: 'input' });
  return {
    $schema,
    title: `callmon event, contract version ${CONTRACT_VERSION}`,
    description:
      'One control-room event as sent to callmon: one JSON object per Kafka message or NDJSON line. See docs/event-contract.md.',
    ...body,
  };
}

/** The file content: two-space JSON with a final newline. */
export function eventJsonSchemaText(): string {
  return `${JSON.stringify(eventJsonSchema(), null, 2)}\n`;
}
