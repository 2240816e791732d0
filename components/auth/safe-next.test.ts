import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next.ts";

describe("where signing in leads", () => {
  it.each([
    ["/sagas?status=failed#top", "/sagas?status=failed#top"],
    ["/breakers?pair=a%E2%86%92b", "/breakers?pair=a%E2%86%92b"],
    [null, "/overview"],
    ["", "/overview"],
    ["//elsewhere.example", "/overview"],
    ["//elsewhere.example/path", "/overview"],
    ["/\\elsewhere.example", "/overview"],
    ["https://elsewhere.example/", "/overview"],
    ["javascript:alert(1)", "/overview"],
    ["/%2F%2Felsewhere.example", "/%2F%2Felsewhere.example"],
    ["sagas", "/overview"],
  ])("next=%s goes to %s", (next, path) => {
    expect(safeNextPath(next)).toBe(path);
  });
});
