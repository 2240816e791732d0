import { describe, expect, it } from "vitest";
import { createOutlineCache, type SagaOutlineDigest } from "./outline-cache.ts";

const digest = (eventsRead: number): SagaOutlineDigest => ({
  eventsRead,
  steps: [],
  controls: null,
  originalInput: null,
  timeline: { start: null, end: null, rows: [], pauses: [], edits: [] },
  rejections: [],
  plan: [],
  order: [],
});
const at = new Date("2026-12-04T10:00:00Z");
const v = (eventCount: number, lastProgressAt = at) => ({ eventCount, lastProgressAt });

describe("outline cache", () => {
  it("answers only for the saga's version it was given", () => {
    const cache = createOutlineCache();
    cache.set("s1", v(500), digest(500), 0);
    expect(cache.get("s1", v(500), 1)?.eventsRead).toBe(500);
    // Another event stored, or the same count with later progress: outlined again.
    expect(cache.get("s1", v(501), 2)).toBeUndefined();
    cache.set("s1", v(500), digest(500), 0);
    expect(cache.get("s1", v(500, new Date(at.getTime() + 1)), 3)).toBeUndefined();
    expect(cache.get("s2", v(500), 4)).toBeUndefined();
  });

  it("forgets an entry after its time, and the least recently used past its size", () => {
    const cache = createOutlineCache(2, 1000);
    cache.set("a", v(1), digest(1), 0);
    expect(cache.get("a", v(1), 1001)).toBeUndefined();
    cache.set("a", v(1), digest(1), 0);
    cache.set("b", v(2), digest(2), 0);
    expect(cache.get("a", v(1), 10)).toBeDefined(); // a is now the most recently used
    cache.set("c", v(3), digest(3), 0);
    expect(cache.get("b", v(2), 10)).toBeUndefined();
    expect(cache.get("a", v(1), 10)).toBeDefined();
    expect(cache.get("c", v(3), 10)).toBeDefined();
  });
});
