// Lag arithmetic: offsets from the broker and the group, time from the newest applied change.
import { describe, expect, it } from "vitest";
import { partitionLag } from "./lag.ts";

describe("partitionLag", () => {
  it.each([
    [
      "caught up",
      { high: 10, low: 0, committed: 10 },
      1000,
      { offsetLag: 0, committedOffset: 10, timeLagMs: 500 },
    ],
    ["behind", { high: 25, low: 0, committed: 10 }, 1000, { offsetLag: 15, timeLagMs: 500 }],
    [
      "a group that never committed starts at the log start",
      { high: 25, low: 5, committed: -1 },
      null,
      { offsetLag: 20, committedOffset: 5, timeLagMs: null },
    ],
    ["an empty partition", { high: 0, low: 0, committed: -1 }, null, { offsetLag: 0, timeLagMs: null }],
  ] as const)("%s", (_what, offsets, appliedAt, expected) => {
    const newest = appliedAt === null ? null : new Date(appliedAt);
    expect(partitionLag(offsets, newest, 1500)).toMatchObject(expected);
  });
});
