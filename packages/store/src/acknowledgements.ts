import type { ClickHouseClient } from '@clickhouse/client';

/** One press of "acknowledge" on a breach, as an api node recorded it. */
export interface AcknowledgementRecord {
  force: string;
  /** The live channel's alert id (kind:rule:item:feed time). */
  alert: string;
  /** The alert's kind (`breach`), rule and item, as the channel knew them. */
  kind: string;
  rule: string;
  item: string;
  /** Who: the token's subject, and its role. */
  subject: string;
  role: string;
  /** When: the node's wall clock, UTC ms. */
  at: number;
  /** The api process that recorded it. */
  node: string;
}

/** Acknowledgements that stand, by the time of the one that stands: `from <= at < to`. */
export interface AcknowledgementQuery {
  /** One force, several, or every force when absent. */
  force?: string | readonly string[];
  from?: number;
  to?: number;
  limit: number;
  /** Which end of the range `limit` keeps (default the oldest); either way oldest first. */
  keep?: 'oldest' | 'newest';
  /**
   * Every press in the range, not only those that stand: for a reader that weighs them
   * itself with `acknowledgementPrecedes` (an api node's poll), a plain read of the range.
   */
  every?: boolean;
}

/**
 * Which of several acknowledgements of one alert stands: the earliest, ties broken by
 * subject, node and role (byte order, as the engine compares strings). Every reader uses
 * this order (the query below, and `acknowledgementPrecedes` for an api node's memory),
 * so all nodes and every audit agree on one, however the presses raced.
 */
const FIRST_ORDER = 'tuple(at, subject, node, role)';

/** True when `a` stands before `b` under the order every reader uses. */
export function acknowledgementPrecedes(
  a: Pick<AcknowledgementRecord, 'at' | 'subject' | 'node' | 'role'>,
  b: Pick<AcknowledgementRecord, 'at' | 'subject' | 'node' | 'role'>,
): boolean {
  if (a.at !== b.at) return a.at < b.at;
  for (const key of ['subject', 'node', 'role'] as const) {
    const order = Buffer.compare(Buffer.from(a[key]), Buffer.from(b[key]));
    if (order !== 0) return order < 0;
  }
  return false;
}

/** Append one acknowledgement. Resolves once the engine has stored the row. */
export async function recordAcknowledgement(
  client: ClickHouseClient,
  record: AcknowledgementRecord,
): Promise<void> {
  const { at, ...rest } = record;
  await client.insert({
    table: 'acknowledgements',
    columns: ['force', 'alert', 'kind', 'rule', 'item', 'subject', 'role', 'at_ms', 'node'],
    values: [{ ...rest, at_ms: at }],
    format: 'JSONEachRow',
  });
}

interface Row {
  force: string;
  alert: string;
  first: [string, string, string, string, string, string | number, string];
}

/**
 * The acknowledgement that stands for each alert whose standing one falls in the range.
 * Every stored press of those alerts is weighed, also presses outside the range, so the
 * answer for an alert never depends on the range asked.
 */
export async function listAcknowledgements(
  client: ClickHouseClient,
  query: AcknowledgementQuery,
): Promise<AcknowledgementRecord[]> {
  const params: Record<string, unknown> = { limit: query.limit };
  const forces: string[] = [];
  if (typeof query.force === 'string') {
    forces.push('force = {force:String}');
    params.force = query.force;
  } else if (query.force !== undefined) {
    forces.push('force IN {forces:Array(String)}');
    params.forces = [...query.force];
  }
  const range = (column: string) => {
    const conditions: string[] = [];
    if (query.from !== undefined) {
      conditions.push(`${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`);
      params.from = query.from;
    }
    if (query.to !== undefined) {
      conditions.push(`${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`);
      params.to = query.to;
    }
    return conditions;
  };
  const where = (conditions: string[]) =>
    conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const direction = query.keep === 'newest' ? 'DESC' : 'ASC';
  if (query.every === true) {
    const result = await client.query({
      query: `SELECT force, alert, kind, rule, item, subject, role,
                     toUnixTimestamp64Milli(at) AS millis, node
              FROM acknowledgements ${where([...forces, ...range('at')])}
              ORDER BY at ${direction}, force ${direction}, alert ${direction}
              LIMIT {limit:UInt32}`,
      format: 'JSONEachRow',
      query_params: params,
    });
    // Not `AS at`: the engine would read an alias named `at` in WHERE as that alias.
    const presses = (
      await result.json<Omit<AcknowledgementRecord, 'at'> & { millis: string }>()
    ).map(({ millis, ...row }) => ({ ...row, at: Number(millis) }));
    return query.keep === 'newest' ? presses.reverse() : presses;
  }
  const result = await client.query({
    query: `SELECT force, alert, first FROM
     (
         SELECT force, alert,
                argMin(tuple(kind, rule, item, subject, role, toUnixTimestamp64Milli(at), node),
                       ${FIRST_ORDER}) AS first,
                min(${FIRST_ORDER}) AS standing
         FROM acknowledgements
         ${where([...forces, `(force, alert) IN (SELECT force, alert FROM acknowledgements ${where([...forces, ...range('at')])})`])}
         GROUP BY force, alert
     )
     ${where(range('standing.1'))}
     ORDER BY standing.1 ${direction}, force ${direction}, alert ${direction}
     LIMIT {limit:UInt32}`,
    format: 'JSONEachRow',
    query_params: params,
  });
  const rows = (await result.json<Row>()).map(
    ({ force, alert, first: [kind, rule, item, subject, role, at, node] }) => ({
      force,
      alert,
      kind,
      rule,
      item,
      subject,
      role,
      at: Number(at),
      node,
    }),
  );
  return query.keep === 'newest' ? rows.reverse() : rows;
}
