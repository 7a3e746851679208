import { readFile } from 'node:fs/promises';
import { Policy, PolicyError } from '@callmon/compliance';

/** Load a force policy file (JSON; metrics.md §1), or the default policy when no path is given. */
export async function loadPolicy(path: string | undefined): Promise<Policy> {
  if (path === undefined) return Policy.ukDefault();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PolicyError(`cannot read policy file ${path}: ${(error as Error).message}`, '');
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(`policy file ${path} is not valid JSON: ${(error as Error).message}`, '');
  }
  try {
    return Policy.fromForceFile(document);
  } catch (error) {
    if (error instanceof PolicyError) {
      throw new PolicyError(`policy file ${path}: ${error.message}`, error.field);
    }
    throw error;
  }
}
