/**
 * One step of the schema: applied once, in version order, and recorded in
 * `schema_migrations`. Statements must be idempotent (`IF NOT EXISTS`), because a
 * process can die between a statement and the record of the step; the next open then
 * runs the step again. An applied step is never edited: add a new one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}
