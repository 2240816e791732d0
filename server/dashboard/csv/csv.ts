// CSV as the exports write it: one way to write a cell, and one way to send rows as they are
// read (a streamed response, so an export of many rows never sits whole in memory).

/**
 * RFC 4180: quoted when needed, quotes doubled; a leading = + - @, tab or carriage return
 * (what spreadsheets read as the start of a formula) is defused with a quote.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = value instanceof Date ? value.toISOString() : String(value);
  if ((/^[=+\-@]/.test(text) && Number.isNaN(Number(text))) || /^[\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvLine = (cells: unknown[]) => cells.map(csvCell).join(",");

/** An export's columns, in order: each header with the cell it reads from a row. */
export type CsvColumns<Row> = ReadonlyArray<readonly [header: string, cell: (row: Row) => unknown]>;

/**
 * The header line, then each page's rows as they are read, up to `cap` rows: a capped export
 * stops reading pages (the page source is closed) as soon as the cap is reached.
 */
export async function* csvTable<Row>(
  columns: CsvColumns<Row>,
  pages: AsyncIterable<readonly Row[]>,
  cap: number,
): AsyncGenerator<string> {
  yield `${columns.map(([header]) => header).join(",")}\r\n`;
  let written = 0;
  for await (const page of pages) {
    const rows = page.slice(0, cap - written);
    if (rows.length > 0)
      yield `${rows.map((row) => csvLine(columns.map(([, cell]) => cell(row)))).join("\r\n")}\r\n`;
    written += rows.length;
    if (written >= cap) return;
  }
}

/** Chunks of CSV text (as an export yields them) sent as a download named `<name>-<time>.csv`. */
export function csvResponse(chunks: AsyncGenerator<string>, name: string): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  const stamp = new Date().toISOString().replaceAll(":", "-").slice(0, 19);
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${name}-${stamp}.csv"`,
      "cache-control": "no-store",
    },
  });
}
