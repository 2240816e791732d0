// "What if this pair had these thresholds?": the pair's recorded outcomes (its callers'
// stats windows of the last hour) replayed through the breaker's own rules with the
// proposed settings, showing when it would have opened and closed and how many calls it
// would have refused. Pure; the windows are spread into single calls the same way every time.
import type { BreakerConfig } from "../../browser-safe/breaker-config.ts";
import {
  acquireTrial,
  type BreakerSnapshot,
  decide,
  initialSnapshot,
  recordOutcomes,
  reportTrial,
  type Transition,
  type WindowCounts,
} from "../breakers/breaker-machine.ts";

/** One caller instance's stats window: calls that reached the callee, and how many failed. */
export interface RecordedWindow {
  start: Date;
  end: Date;
  calls: number;
  failures: number;
}

export interface RecordedCall {
  at: number;
  ok: boolean;
}

/** The most calls one what-if replays: the newest recorded calls up to this many. */
export const MAX_WHAT_IF_CALLS = 200_000;

/**
 * The newest windows holding at most `cap` calls in all, oldest first, and whether older ones
 * were left out. A single window past the cap on its own is scaled down to it, its failure
 * share kept. Decided from the windows' counts, before any call is spread out.
 */
export function newestWithin(
  windows: RecordedWindow[],
  cap = MAX_WHAT_IF_CALLS,
): { windows: RecordedWindow[]; recordedCalls: number; leftOut: boolean } {
  const recordedCalls = windows.reduce((n, w) => n + w.calls, 0);
  const kept: RecordedWindow[] = [];
  let total = 0;
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i] as RecordedWindow;
    if (total + w.calls > cap) {
      if (kept.length === 0) {
        const calls = cap;
        kept.push({ ...w, calls, failures: Math.round((w.failures * calls) / w.calls) });
      }
      return { windows: kept.reverse(), recordedCalls, leftOut: true };
    }
    kept.push(w);
    total += w.calls;
  }
  return { windows: kept.reverse(), recordedCalls, leftOut: false };
}

/**
 * The windows as single calls in time order: each window's calls spread evenly over it, its
 * failures spread evenly among them (the order inside a window is not recorded).
 */
export function spreadCalls(windows: RecordedWindow[]): RecordedCall[] {
  const calls: RecordedCall[] = [];
  for (const w of windows) {
    const span = Math.max(1, w.end.getTime() - w.start.getTime());
    for (let i = 0; i < w.calls; i++) {
      // Call i fails when the running share of failures falls behind the window's share.
      const ok = Math.floor(((i + 1) * w.failures) / w.calls) === Math.floor((i * w.failures) / w.calls);
      calls.push({ at: w.start.getTime() + Math.floor(((i + 1) * span) / (w.calls + 1)), ok });
    }
  }
  return calls.sort((a, b) => a.at - b.at);
}

export interface WhatIf {
  transitions: Transition[];
  /** Calls the proposed breaker would have let through (including trial calls). */
  passed: number;
  /** Calls it would have refused (they would not have reached the callee). */
  rejected: number;
  trials: number;
  /** The state it would be in at the end of the replay. */
  finalState: BreakerSnapshot["state"];
}

/** Replays calls through the breaker rules (the same the Redis engine applies). */
export function replay(calls: RecordedCall[], config: BreakerConfig, startAt: number): WhatIf {
  let s: BreakerSnapshot = initialSnapshot(startAt);
  let window: WindowCounts = {};
  const transitions: Transition[] = [];
  let passed = 0;
  let rejected = 0;
  let trials = 0;
  const apply = (step: { snapshot: BreakerSnapshot; window: WindowCounts; transition?: Transition }) => {
    s = step.snapshot;
    window = step.window;
    if (step.transition) transitions.push(step.transition);
  };
  for (const call of calls) {
    const decision = decide(s, call.at);
    if (decision === "reject") {
      rejected += 1;
      continue;
    }
    if (decision === "trial") {
      const acquired = acquireTrial(s, window, config, call.at);
      apply(acquired);
      if (!acquired.granted) {
        rejected += 1;
        continue;
      }
      trials += 1;
      passed += 1;
      apply(reportTrial(s, window, config, { ok: call.ok, now: call.at }));
      continue;
    }
    passed += 1;
    apply(recordOutcomes(s, window, config, { calls: 1, failures: call.ok ? 0 : 1, now: call.at }));
  }
  return { transitions, passed, rejected, trials, finalState: s.state };
}
