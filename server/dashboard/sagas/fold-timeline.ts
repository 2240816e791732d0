// A saga that retried a step thousands of times would draw thousands of timeline rows: a run
// of more than 2 × KEEP attempts of one step (or compensation) in a row keeps its first and
// last KEEP bars and folds the ones between into one row that counts them by outcome. Pure.
import type { BarOutcome, InputEdit, PauseSpan, SagaTimeline, TimelineBar } from "./saga-timeline.ts";

export const KEEP_ATTEMPTS = 10;

export interface FoldedAttempts {
  kind: "folded";
  /** What was folded: attempts of a step or of a compensation. */
  of: TimelineBar["kind"];
  step: string;
  service: string;
  firstAttempt: number;
  lastAttempt: number;
  count: number;
  start: Date;
  end: Date | null;
  outcomes: Partial<Record<BarOutcome, number>>;
}

export type TimelineRow = TimelineBar | FoldedAttempts;

export interface FoldedTimeline {
  start: Date | null;
  end: Date | null;
  rows: TimelineRow[];
  pauses: PauseSpan[];
  edits: InputEdit[];
}

function fold(bars: TimelineBar[]): FoldedAttempts {
  const first = bars[0] as TimelineBar;
  const last = bars.at(-1) as TimelineBar;
  const outcomes: Partial<Record<BarOutcome, number>> = {};
  for (const b of bars) outcomes[b.outcome] = (outcomes[b.outcome] ?? 0) + 1;
  return {
    kind: "folded",
    of: first.kind,
    step: first.step,
    service: first.service,
    firstAttempt: first.attempt,
    lastAttempt: last.attempt,
    count: bars.length,
    start: first.start,
    end: last.end,
    outcomes,
  };
}

export function foldTimeline(timeline: SagaTimeline, keep = KEEP_ATTEMPTS): FoldedTimeline {
  const rows: TimelineRow[] = [];
  let run: TimelineBar[] = [];
  const flush = () => {
    if (run.length > 2 * keep + 1)
      rows.push(...run.slice(0, keep), fold(run.slice(keep, -keep)), ...run.slice(-keep));
    else rows.push(...run);
    run = [];
  };
  for (const bar of timeline.bars) {
    const previous = run.at(-1);
    if (previous && (previous.kind !== bar.kind || previous.step !== bar.step)) flush();
    run.push(bar);
  }
  flush();
  return { start: timeline.start, end: timeline.end, rows, pauses: timeline.pauses, edits: timeline.edits };
}
