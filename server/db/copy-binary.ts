// Rows in COPY's binary format (PostgreSQL docs, "COPY", Binary Format): each value sent as
// its type's binary form, length-prefixed. Postgres then neither scans the text for
// delimiters and backslash escapes nor parses timestamps and numbers from text: storing a
// batch of saga events by binary COPY cost Postgres about a quarter less than by text
// (docs/database.md). Only the column types the hot path copies are written; any other is
// refused when the table is described, not when a row arrives.
import type { StagingTable } from "./staging-table.ts";

/** The SQL types written here, as a StagingTable names them. */
const BINARY_TYPES = ["text", "int", "bigint", "timestamptz", "jsonb"] as const;
type BinaryType = (typeof BINARY_TYPES)[number];

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
/** Microseconds from the Unix epoch to Postgres's (2000-01-01T00:00:00Z). */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_TO_32 = 2 ** 32;
const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;
/** jsonb's binary form: a version byte (1), then the JSON text. */
const JSONB_VERSION = 1;

/** A growing buffer that COPY's binary values are written into. */
class BinaryRows {
  private buffer: Buffer;
  private at = 0;

  constructor(sizeHint: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, sizeHint));
  }

  get written(): number {
    return this.at;
  }

  /** Makes room for `bytes` more at once, rather than doubling (and copying) on the way there. */
  room(bytes: number) {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  bytes(b: Buffer) {
    this.room(b.length);
    this.at += b.copy(this.buffer, this.at);
  }

  int16(n: number) {
    this.room(2);
    this.at = this.buffer.writeInt16BE(n, this.at);
  }

  int32(n: number) {
    this.room(4);
    this.at = this.buffer.writeInt32BE(n, this.at);
  }

  /** A safe integer as int8: its high and low 32 bits. */
  int64(n: number) {
    this.room(8);
    const high = Math.floor(n / TWO_TO_32);
    this.at = this.buffer.writeInt32BE(high, this.at);
    this.at = this.buffer.writeUInt32BE(n - high * TWO_TO_32, this.at);
  }

  /** A length-prefixed UTF-8 value, with `prefix` bytes ahead of the text (jsonb's version). */
  text(s: string, prefix?: number) {
    // At most three bytes for each UTF-16 unit; the length is written once the text is.
    this.room(4 + 1 + s.length * 3);
    const lengthAt = this.at;
    this.at += 4;
    if (prefix !== undefined) this.buffer[this.at++] = prefix;
    this.at += this.buffer.write(s, this.at, "utf8");
    this.buffer.writeInt32BE(this.at - lengthAt - 4, lengthAt);
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

function isBinaryType(type: string): type is BinaryType {
  return (BINARY_TYPES as readonly string[]).includes(type);
}

type Writer = (out: BinaryRows, value: unknown, column: string) => void;

function refuse(column: string, type: string, value: unknown): never {
  throw new TypeError(
    `column "${column}" (${type}) cannot take ${typeof value} ${String(value).slice(0, 80)}`,
  );
}

const writers: Record<BinaryType, Writer> = {
  text(out, value, column) {
    if (typeof value !== "string") refuse(column, "text", value);
    out.text(value);
  },
  int(out, value, column) {
    if (!Number.isInteger(value) || (value as number) < INT4_MIN || (value as number) > INT4_MAX)
      refuse(column, "int", value);
    out.int32(4);
    out.int32(value as number);
  },
  bigint(out, value, column) {
    if (!Number.isSafeInteger(value)) refuse(column, "bigint", value);
    out.int32(8);
    out.int64(value as number);
  },
  timestamptz(out, value, column) {
    const ms =
      value instanceof Date ? value.getTime() : typeof value === "string" ? Date.parse(value) : Number.NaN;
    if (!Number.isFinite(ms)) refuse(column, "timestamptz", value);
    out.int32(8);
    out.int64((ms - POSTGRES_EPOCH_MS) * 1000);
  },
  jsonb(out, value) {
    out.text(JSON.stringify(value), JSONB_VERSION);
  },
};

/** Writes a table's rows in COPY's binary format; made once per table, used for every batch. */
export interface BinaryCopy<Row> {
  /** The rows as one COPY … FROM STDIN (FORMAT binary) input: header, tuples, trailer. */
  rows(rows: readonly Row[]): Buffer;
}

export function binaryCopyOf<Row>(table: StagingTable<Row>): BinaryCopy<Row> {
  const columns = Object.entries(table.columns).map(([name, type]) => {
    if (!isBinaryType(type as string))
      throw new Error(`${table.name}.${name}: type ${String(type)} is not written in COPY's binary format`);
    return { name: name as keyof Row & string, write: writers[type as BinaryType] };
  });
  return {
    rows(rows) {
      const out = new BinaryRows(1024);
      out.bytes(SIGNATURE);
      out.int32(0); // flags: no OIDs
      out.int32(0); // header extension: none
      const headerBytes = out.written;
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] as Row;
        // The first row's size, with a quarter to spare, for every other: one allocation for a
        // batch of like rows instead of a copy at each doubling.
        if (r === 1) out.room(Math.ceil((out.written - headerBytes) * 1.25 * (rows.length - 1)) + 2);
        out.int16(columns.length);
        for (const { name, write } of columns) {
          const value = row[name];
          if (value === null || value === undefined) out.int32(-1);
          else write(out, value, name);
        }
      }
      out.int16(-1);
      return out.done();
    },
  };
}
