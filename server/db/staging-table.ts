// A batch's rows sent to Postgres by COPY into a temporary table of the connection, for the
// statements that follow to read as a table. Sending a batch as one JSON parameter made the
// driver write, and Postgres parse, a multi-megabyte string per batch; COPY's text format
// is the cheapest way in for both. The table lives as long as the connection, emptied at
// each commit, so a staging table is only ever used inside a transaction. A caller on the hot
// path makes its tables once per connection, before its transaction (prepareStagingTables):
// a table made inside a transaction that rolls back is gone again.
import { type CopyResults, copyInThen } from "./copy-in.ts";
import type { PoolClient } from "./pool.ts";

export interface StagingTable<Row> {
  name: string;
  /** Column name → SQL type, in COPY order. */
  columns: Readonly<Record<keyof Row & string, string>>;
}

/** A value's text in COPY's text format: \N for null, backslash escapes for the separators. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "boolean") return value ? "t" : "f";
  else if (typeof value === "number" || typeof value === "bigint") return String(value);
  else if (value instanceof Date) return value.toISOString();
  else if (Array.isArray(value)) text = arrayLiteral(value);
  else text = JSON.stringify(value);
  return SEPARATOR.test(text) ? text.replace(SEPARATORS, escapeSeparator) : text;
}

const SEPARATOR = /[\\\n\r\t]/;
const SEPARATORS = /[\\\n\r\t]/g;

const escapeSeparator = (c: string) =>
  c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t";

/** A text[] literal: every element quoted, so commas, braces and spaces need no thought. */
export function arrayLiteral(values: unknown[]): string {
  const quoted = values.map((v) =>
    v === null || v === undefined ? "NULL" : `"${String(v).replace(/[\\"]/g, "\\$&")}"`,
  );
  return `{${quoted.join(",")}}`;
}

/** The rows as COPY text, in the table's column order. */
export function copyLines<Row>(table: StagingTable<Row>, rows: readonly Row[]): string {
  const names = Object.keys(table.columns) as (keyof Row & string)[];
  let text = "";
  for (const row of rows) {
    for (let i = 0; i < names.length; i++) {
      if (i > 0) text += "\t";
      text += copyText(row[names[i] as keyof Row]);
    }
    text += "\n";
  }
  return text;
}

/** The staging tables each connection is known to hold (made outside a transaction). */
const prepared = new WeakMap<PoolClient, Set<string>>();

const createStatement = (table: StagingTable<unknown>) => {
  const columns = Object.entries(table.columns).map(([name, type]) => `"${name}" ${type}`);
  return `CREATE TEMP TABLE IF NOT EXISTS ${table.name} (${columns.join(", ")}) ON COMMIT DELETE ROWS`;
};

/**
 * Makes the tables on this connection, outside any transaction, the first time only: one
 * round trip for all of them, and none on the connection's later batches.
 */
export async function prepareStagingTables(
  client: PoolClient,
  tables: readonly StagingTable<never>[],
): Promise<void> {
  const known = prepared.get(client) ?? new Set<string>();
  const missing = tables.filter((t) => !known.has(t.name));
  if (missing.length === 0) return;
  await client.query(missing.map(createStatement).join(";\n"));
  for (const t of missing) known.add(t.name);
  prepared.set(client, known);
}

/** Where the COPY goes in its transaction: what rides in the same message before and after it. */
export interface StagingMessage {
  /** What goes ahead of the first statement sent (withBoundaries' BEGIN). */
  opening?: (sql: string) => string;
  /** Statements after the COPY in the same message, reading the staged rows; their rows are returned. */
  after?: string;
  /** Wraps the whole message as the transaction's last (withBoundaries' closing: COMMIT after it). */
  closing?: (sql: string) => string;
}

/**
 * Puts the rows into the connection's staging table, inside the caller's transaction (the
 * table is made there when the connection was not prepared; a rollback undoes that, so it is
 * not remembered). Strings holding NUL are refused by Postgres as a data error (SQLSTATE 22…),
 * as any other value its column type does not take. The rows of the statements in `after`,
 * in order.
 */
export async function stageRows<Row>(
  client: PoolClient,
  table: StagingTable<Row>,
  rows: readonly Row[],
  { opening = (sql) => sql, after, closing = (sql) => sql }: StagingMessage = {},
): Promise<CopyResults> {
  let open = opening;
  if (!prepared.get(client)?.has(table.name)) {
    // What goes ahead goes with the first statement sent only.
    await client.query(opening(createStatement(table)));
    open = (sql) => sql;
  }
  const copy = copyStatement(table);
  const { results } = await copyInThen(
    client,
    closing(open(after ? `${copy};\n${after}` : copy)),
    copyLines(table, rows),
  );
  return results;
}

/** `COPY <table> (<its columns>) FROM STDIN`, in the order copyLines writes them. */
export function copyStatement(table: StagingTable<unknown>): string {
  const names = Object.keys(table.columns).map((name) => `"${name}"`);
  return `COPY ${table.name} (${names.join(", ")}) FROM STDIN`;
}
