/**
 * Writes the event contract's JSON Schema to docs/schema/ (`pnpm schema`). The file is
 * committed; a test fails when it no longer matches the zod schemas.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventJsonSchemaText, JSON_SCHEMA_PATH } from '../src/json-schema.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const target = resolve(repoRoot, JSON_SCHEMA_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, eventJsonSchemaText());
console.log(`wrote ${JSON_SCHEMA_PATH}`);
