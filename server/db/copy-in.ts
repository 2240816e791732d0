// COPY FROM STDIN with its data in the same write as the statement. pg-copy-streams waits for
// Postgres to answer that it is ready for the data (CopyInResponse) before sending any: a
// round trip of its own, which on a loaded machine costs far more than the statement's work
// (docs/database.md). Sending statement, data and CopyDone at once is safe by the protocol:
// a backend whose statement failed before it read the data ignores the copy messages that
// follow ("accept but ignore these messages, per protocol spec", PostgresMain), and one that
// fails while reading skips the rest of them the same way; either way the error is answered
// and the connection is ready for the next statement. Statements after the COPY in the same
// message run once its data is in, and their rows come back with it: a statement that reads
// what was just copied costs no round trip of its own.
import Result from "pg/lib/result.js";
import type { PoolClient } from "./pool.ts";

/** The rows of each statement of the message that answered with rows, in order. */
export type CopyResults = Record<string, unknown>[][];

/** The part of pg's connection a query object writes to (pg's submittable interface). */
interface Connection {
  query(text: string): void;
  endCopyFrom(): void;
  /** The socket to Postgres (TLS or not), as pg-copy-streams writes its CopyData to it. */
  stream: Pick<NodeJS.WritableStream, "write"> & { writable: boolean; cork(): void; uncork(): void };
}

/** CopyData's type byte ('d'). */
const COPY_DATA = 0x64;

/** A CopyData message's head: its type and its length (the data's and its own four bytes). */
function copyDataHead(dataBytes: number): Buffer {
  const head = Buffer.allocUnsafe(5);
  head[0] = COPY_DATA;
  head.writeInt32BE(dataBytes + 4, 1);
  return head;
}

/** A query object pg runs as any other: it writes its messages, and pg hands it the answers. */
class CopyWithData {
  private copied = 0;
  private result: Result | undefined;
  private readonly results: CopyResults = [];

  constructor(
    readonly text: string,
    private readonly data: Buffer[],
    private readonly settle: (error: Error | undefined, rows: number, results: CopyResults) => void,
  ) {}

  submit(connection: Connection) {
    const { stream } = connection;
    // Each block goes to the socket behind a head of its own, as pg-copy-streams sends its
    // chunks: pg's sendCopyFromChunk would copy a batch's megabyte into a new message first.
    // Corked, the statement, the blocks and their CopyDones leave in one write.
    stream.cork();
    try {
      connection.query(this.text);
      for (const block of this.data) {
        if (block.length > 0) {
          // A closed socket takes nothing (pg's own sends skip it alike); the error comes from pg.
          if (stream.writable) {
            stream.write(copyDataHead(block.length));
            stream.write(block);
          }
        }
        connection.endCopyFrom();
      }
    } finally {
      stream.uncork();
    }
  }

  /** Called by pg, unbound, when its read timeout fires (query_timeout), with the error to end on. */
  callback = (error?: Error) => {
    if (error) this.settle(error, 0, []);
  };

  handleCopyInResponse() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyData() {}

  /** A statement after the COPY answers with rows: parsed as pg parses any query's. */
  handleRowDescription(message: { fields: unknown[] }) {
    this.result = new Result();
    this.result.addFields(message.fields);
  }

  handleDataRow(message: { fields: unknown[] }) {
    this.result?.addRow(this.result.parseRow(message.fields));
  }

  handleCommandComplete(message: { text?: string }) {
    const copied = /^COPY (\d+)$/.exec(message.text ?? "");
    if (copied) this.copied = Number(copied[1]);
    if (this.result) this.results.push(this.result.rows);
    this.result = undefined;
  }

  /** pg hands over an error answer, then forgets the query: no ReadyForQuery reaches it after one. */
  handleError(error: Error) {
    this.settle(error, 0, []);
  }

  handleReadyForQuery() {
    this.settle(undefined, this.copied, this.results);
  }
}

/**
 * Runs `sql` (a COPY … FROM STDIN, after any statements that go ahead of it in the same
 * message, such as BEGIN) with `data` as its input, in one round trip; the rows copied.
 */
export async function copyIn(client: PoolClient, sql: string, data: string | Buffer): Promise<number> {
  return (await copyInThen(client, sql, data)).copied;
}

/**
 * copyIn whose message goes on after the COPY with statements that read what it copied: the
 * rows copied (by the last COPY), and the rows of each statement that answered with rows, in
 * order. A message of several COPY … FROM STDIN takes an array, one block of data for each, in
 * their order: each block ends with its own CopyDone, and Postgres reads the next block when it
 * reaches the next COPY (after an error, it ignores the blocks left, as with one).
 */
export function copyInThen(
  client: PoolClient,
  sql: string,
  data: string | Buffer | readonly (string | Buffer)[],
): Promise<{ copied: number; results: CopyResults }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const blocks = (Array.isArray(data) ? data : [data]) as (string | Buffer)[];
    const query = new CopyWithData(
      sql,
      blocks.map((b) => (typeof b === "string" ? Buffer.from(b) : b)),
      (error, copied, results) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve({ copied, results });
      },
    );
    // pg's typings know its own query objects only; any object with submit() is run the same way.
    client.query(query as never);
  });
}
