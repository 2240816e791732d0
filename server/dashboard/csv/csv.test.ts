// CSV cells that a spreadsheet reads back as written, and never as a formula.
import { describe, expect, it } from "vitest";
import { csvCell } from "./csv.ts";

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
