import { describe, expect, it } from "vitest";
import { foldTimeline } from "./fold-timeline.ts";
import type { TimelineBar } from "./saga-timeline.ts";

const bar = (step: string, attempt: number, outcome: TimelineBar["outcome"] = "failed"): TimelineBar => ({
  kind: "step",
  step,
  stepIndex: 0,
  service: "svc",
  attempt,
  start: new Date(attempt * 1000),
  end: new Date(attempt * 1000 + 5),
  outcome,
  error: null,
});

describe("foldTimeline", () => {
  it("keeps a short saga's bars as they are", () => {
    const bars = [bar("a", 1), bar("a", 2, "succeeded"), bar("b", 1, "succeeded")];
    expect(foldTimeline({ start: null, end: null, bars, pauses: [], edits: [] }, 2).rows).toEqual(bars);
  });

  it("folds the middle of a long run of one step's attempts, counting them by outcome", () => {
    const retries = Array.from({ length: 30 }, (_, i) =>
      bar("poll", i + 1, i === 29 ? "succeeded" : "failed"),
    );
    const bars = [bar("reserve", 1, "succeeded"), ...retries, bar("ship", 1, "succeeded")];
    const { rows } = foldTimeline({ start: null, end: null, bars, pauses: [], edits: [] }, 3);
    expect(
      rows.map((r) =>
        r.kind === "folded" ? `folded ${r.firstAttempt}-${r.lastAttempt}` : `${r.step} ${r.attempt}`,
      ),
    ).toEqual([
      "reserve 1",
      "poll 1",
      "poll 2",
      "poll 3",
      "folded 4-27",
      "poll 28",
      "poll 29",
      "poll 30",
      "ship 1",
    ]);
    expect(rows[4]).toMatchObject({
      kind: "folded",
      of: "step",
      step: "poll",
      count: 24,
      outcomes: { failed: 24 },
    });
    expect(rows[4]?.start).toEqual(new Date(4000));
    expect(rows[4]?.end).toEqual(new Date(27005));
  });

  it("does not fold a run that folding would not shorten", () => {
    const bars = Array.from({ length: 7 }, (_, i) => bar("poll", i + 1));
    expect(foldTimeline({ start: null, end: null, bars, pauses: [], edits: [] }, 3).rows).toHaveLength(7);
  });
});
