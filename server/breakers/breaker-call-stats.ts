// What one instance saw of a pair's calls over a stats period: counts by outcome, trials,
// rejections and latency percentiles (from at most MAX_LATENCY_SAMPLES samples a period).
import { type BreakerSnapshot, effectiveForced } from "./breaker-machine.ts";
import type { Outcome } from "./classify.ts";

/** What a pair's calls came to over a period, as every report of it and every chart counts them. */
export interface CallCounts {
  calls: number;
  successes: number;
  /** Business refusals: calls that reached the callee and were answered, not failures. */
  business: number;
  failures: number;
  /** Calls refused by the breaker, never sent. */
  rejections: number;
  /** Half-open trial calls. */
  trials: number;
}

/** Just the counts of `c` (a report carries them as they are). */
export const callCounts = (c: CallCounts): CallCounts => ({
  calls: c.calls,
  successes: c.successes,
  business: c.business,
  failures: c.failures,
  rejections: c.rejections,
  trials: c.trials,
});

export interface PairStats extends CallCounts {
  pair: string;
  instance: string;
  from: Date;
  to: Date;
  state: BreakerSnapshot["state"];
  forced: BreakerSnapshot["forced"];
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

export interface CallStats extends CallCounts {
  from: number;
  latencies: number[];
}

const MAX_LATENCY_SAMPLES = 20_000;
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
const round = (x: number) => Math.round(x * 1000) / 1000;

export const emptyCallStats = (from: number): CallStats => ({
  from,
  calls: 0,
  successes: 0,
  business: 0,
  failures: 0,
  rejections: 0,
  trials: 0,
  latencies: [],
});

export function countCall(s: CallStats, latencyMs: number, outcome: Outcome): void {
  if (s.latencies.length < MAX_LATENCY_SAMPLES) s.latencies.push(latencyMs);
  s.calls += 1;
  if (outcome === "success") s.successes += 1;
  else if (outcome === "business") s.business += 1;
  else s.failures += 1;
}

/** The period's figures, or undefined when nothing was called or refused in it. */
export function pairStats(
  pair: string,
  instance: string,
  s: CallStats,
  snapshot: BreakerSnapshot,
  now: number,
): PairStats | undefined {
  if (s.calls === 0 && s.rejections === 0) return undefined;
  const sorted = [...s.latencies].sort((a, b) => a - b);
  return {
    pair,
    instance,
    from: new Date(s.from),
    to: new Date(now),
    state: snapshot.state,
    forced: effectiveForced(snapshot, now),
    ...callCounts(s),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? 0),
    },
  };
}
