// The answer to one statement of a message of several (a query string Postgres runs in the
// simple protocol, sent in one round trip): the driver answers such a message with one result
// per statement, and a single statement with its result alone.
import type { QueryResultRow } from "pg";

/** The last statement's answer. */
export function lastResult<Row extends QueryResultRow = Record<string, unknown>>(
  answer: unknown,
): { rows: Row[] } {
  return (Array.isArray(answer) ? answer.at(-1) : answer) as { rows: Row[] };
}
