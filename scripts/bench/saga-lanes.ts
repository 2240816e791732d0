// A load of fixed concurrency for a saga benchmark: `lanes` sagas in flight, each lane starting
// its next saga as soon as its last one ended, until `count` have ended. The figures are the
// wall time, every saga's duration from its start to its end, as `one` measures it, and where
// the machine's CPU went over exactly that window (not the set-up before it, whose waits for
// group joins would read as idle time).
import { figuresOf } from "../../e2e/fixtures/percentiles.ts";
import { type CpuSplit, startCpuSplit } from "./cpu-split.ts";

export interface LaneRun {
  ms: number;
  /** Each saga's duration in ms, start to end. */
  durations: number[];
  cpu: CpuSplit;
}

export async function runInLanes(
  count: number,
  lanes: number,
  one: (i: number) => Promise<number>,
): Promise<LaneRun> {
  const durations: number[] = [];
  let next = 0;
  const watch = startCpuSplit();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next;
        next += 1;
        durations.push(await one(i));
      }
    }),
  );
  const ms = performance.now() - began;
  return { ms, durations, cpu: watch.stop() };
}

/** "p50 / p95 / p99 N / N / N ms" of a run's saga durations. */
export function formatDurations(durations: number[]): string {
  const f = figuresOf(durations);
  const ms = (n: number) => n.toFixed(0);
  return `p50 / p95 / p99 ${ms(f.p50)} / ${ms(f.p95)} / ${ms(f.p99)} ms`;
}
