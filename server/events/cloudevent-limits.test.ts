// The limits outside a message's value are counted in UTF-8 bytes, as Kafka carries them,
// whatever shortcut the count takes for short texts: multi-byte texts at each limit's edge,
// a header name too long, and the headers' total. NUL is found raw or as the JSON escape.
import { describe, expect, it } from "vitest";
import { hasNul, MESSAGE_LIMITS, outsideValueProblem } from "./cloudevent-limits.ts";

const L = MESSAGE_LIMITS;

describe("outsideValueProblem", () => {
  it("counts a header value's bytes, not its characters, at the limit's edge", () => {
    // 中 takes three bytes: 2 730 of them fit 8 KiB, 2 731 do not.
    expect(
      outsideValueProblem("k", { ce_note: "中".repeat(Math.floor(L.headerValueBytes / 3)) }),
    ).toBeUndefined();
    expect(outsideValueProblem("k", { ce_note: "中".repeat(Math.floor(L.headerValueBytes / 3) + 1) })).toBe(
      `header ce_note too large: ${L.headerValueBytes + 1} bytes > ${L.headerValueBytes}`,
    );
    // é takes two: 4 096 fit, 4 097 do not.
    expect(outsideValueProblem("k", { ce_note: "é".repeat(L.headerValueBytes / 2) })).toBeUndefined();
    expect(outsideValueProblem("k", { ce_note: "é".repeat(L.headerValueBytes / 2 + 1) })).toMatch(
      /header ce_note too large: 8194 bytes/,
    );
  });

  it("refuses a header name past its bytes", () => {
    expect(outsideValueProblem("k", { ["é".repeat(L.headerNameBytes / 2)]: "v" })).toBeUndefined();
    expect(outsideValueProblem("k", { ["é".repeat(L.headerNameBytes / 2 + 1)]: "v" })).toMatch(
      /^header name too long: 258 bytes > 256/,
    );
  });

  it("refuses headers too large in all, each within its own limit", () => {
    const just = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`h${i}`, "v".repeat(8000)]));
    expect(outsideValueProblem("k", just)).toBeUndefined();
    const over = { ...just, h4: "v".repeat(800) };
    expect(outsideValueProblem("k", over)).toBe(
      `headers too large: ${4 * 8002 + 802} bytes in all > ${L.headerBytes}`,
    );
    // Multi-byte: four values of 2 700 中 (8 100 bytes each), one of 120, and the names: 32 770 bytes.
    const wide = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`h${i}`, "中".repeat(2700)]));
    expect(outsideValueProblem("k", { ...wide, h4: "中".repeat(119) })).toBeUndefined();
    expect(outsideValueProblem("k", { ...wide, h4: "中".repeat(120) })).toMatch(
      /^headers too large: 32770 bytes/,
    );
  });
});

describe("hasNul", () => {
  it("finds NUL raw or escaped, and nothing in a text with other escapes", () => {
    expect(hasNul("a\u0000b")).toBe(true);
    expect(hasNul('{"a":"x\\u0000y"}')).toBe(true);
    expect(hasNul('{"a":"x\\U0000y"}')).toBe(true);
    expect(hasNul('{"a":"tab\\there \\u00e9"}')).toBe(false);
    expect(hasNul("plain")).toBe(false);
  });
});
