// "When will it clear?" from consume and produce rates, as an on-call operator reads it.
import { describe, expect, it } from "vitest";
import { type CheckpointTotals, estimateTimeToClear } from "./time-to-clear.ts";

/** Checkpoints 5 s apart: committed and log-end offsets at each. */
const every5s = (points: [committed: number, logEnd: number][]): CheckpointTotals[] =>
  points.map(([committed, logEnd], i) => ({
    time: new Date(Date.UTC(2026, 11, 3, 12, 0, i * 5)),
    committed,
    logEnd,
    lag: logEnd - committed,
  }));

describe("estimateTimeToClear", () => {
  it("clears in lag ÷ (consume − produce) when it consumes faster than the topics grow", () => {
    // 1 200 behind at the last checkpoint; consuming 100/s while 20/s arrive: 80/s net, 15 s.
    const steady = estimateTimeToClear(
      every5s([
        [0, 2000],
        [500, 2100],
        [1000, 2200],
      ]),
    );
    expect(steady).toEqual({
      kind: "clearing",
      inMs: 15_000,
      consumePerSecond: 100,
      producePerSecond: 20,
      overSeconds: 10,
    });
  });

  it("grows when it consumes no faster than the topics grow, paused included", () => {
    expect(
      estimateTimeToClear(
        every5s([
          [100, 200],
          [100, 300],
          [100, 400],
        ]),
      ),
    ).toEqual({
      kind: "growing",
      consumePerSecond: 0,
      producePerSecond: 20,
      overSeconds: 10,
    });
  });

  it("keeps up when what is behind is only a few seconds of arrivals", () => {
    expect(
      estimateTimeToClear(
        every5s([
          [0, 30],
          [100, 130],
          [200, 230],
        ]),
      ),
    ).toMatchObject({
      kind: "keeping-up",
    });
  });

  it("is caught up at zero lag, and unknown without two checkpoints to take rates from", () => {
    expect(
      estimateTimeToClear(
        every5s([
          [10, 500],
          [500, 500],
        ]),
      ),
    ).toEqual({ kind: "caught-up" });
    expect(estimateTimeToClear(every5s([[0, 100]]))).toMatchObject({ kind: "unknown" });
    expect(estimateTimeToClear([])).toMatchObject({ kind: "unknown" });
  });
});
