// CSV cells that a spreadsheet reads back as written, and never as a formula; tables written page by page up to a cap.
import { describe, expect, it } from "vitest";
import { type CsvColumns, csvCell, csvTable } from "./csv.ts";

describe("csvCell", () => {
  it.each([
    [null, ""],
    ["plain", "plain"],
    ['with "quotes", and a comma', '"with ""quotes"", and a comma"'],
    ["two\nlines", '"two\nlines"'],
    ["=HYPERLINK(1)", "'=HYPERLINK(1)"],
    ["-12", "-12"],
    ["\t=1+2", "'\t=1+2"],
    ["\r=cmd|' /C calc'!A0", "\"'\r=cmd|' /C calc'!A0\""],
    [new Date("2026-11-25T10:00:00.000Z"), "2026-11-25T10:00:00.000Z"],
    [true, "true"],
  ])("%s", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });
});

describe("csvTable", () => {
  const columns: CsvColumns<{ n: number; name: string }> = [
    ["n", (row) => row.n],
    ["name", (row) => row.name],
  ];
  const rowsOf = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ n: from + i, name: `=row ${from + i}` }));

  async function collect(chunks: AsyncGenerator<string>): Promise<string> {
    let text = "";
    for await (const chunk of chunks) text += chunk;
    return text;
  }

  it("writes the header, then every page's rows as they come", async () => {
    async function* pages() {
      yield rowsOf(1, 2);
      yield [];
      yield rowsOf(3, 1);
    }
    expect(await collect(csvTable(columns, pages(), 100))).toBe(
      "n,name\r\n1,'=row 1\r\n2,'=row 2\r\n3,'=row 3\r\n",
    );
  });

  it("stops at the cap, mid-page, and stops reading pages", async () => {
    let read = 0;
    let closed = false;
    async function* pages() {
      try {
        for (let page = 0; page < 10; page += 1) {
          read += 1;
          yield rowsOf(page * 3, 3);
        }
      } finally {
        closed = true;
      }
    }
    const text = await collect(csvTable(columns, pages(), 5));
    expect(text.trimEnd().split("\r\n")).toHaveLength(1 + 5);
    expect(read).toBe(2);
    expect(closed).toBe(true);
  });
});
