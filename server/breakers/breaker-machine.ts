// The breaker as a pure state machine over plain data: closed → open when the failure rate
// over the sliding window reaches the threshold (with enough calls); open → half-open when
// the open time has passed; half-open lets a quota of trial calls through, whose successes
// close it and whose first failure opens it again for longer. A forced state overrides all
// of it until cleared or expired. The Lua scripts (breaker-lua.ts) implement the same rules
// on the shared state in Redis; one table of scenarios tests both (breaker-engines.test.ts).
import type { BreakerConfig, ForcedState } from "../../browser-safe/breaker-config.ts";

export type BreakerStateName = "closed" | "open" | "half_open";

export interface BreakerSnapshot {
  state: BreakerStateName;
  since: number;
  openUntil: number;
  /** Consecutive openings without a close in between (the open time doubles with each). */
  opens: number;
  trialsTaken: number;
  trialSuccesses: number;
  forced: ForcedState | null;
  /** When the forced state ends by itself (ms since epoch); 0: until cleared. */
  forcedUntil: number;
  /** Increases with every change, so mirrors can tell old news from new. */
  version: number;
  reason: string;
  /** The window's figures at the last evaluation (for an open breaker: those that opened it). */
  calls: number;
  failures: number;
  /** Calls the breaker refused in the window (they are not calls to the callee). */
  rejections: number;
}

/** Counts per bucket of the sliding window: "<bucket>:c" calls, ":f" failures, ":r" rejections. */
export type WindowCounts = Record<string, number>;

export interface Transition {
  from: BreakerStateName;
  to: BreakerStateName;
  at: number;
  reason: string;
  calls: number;
  failures: number;
}

export interface Step {
  snapshot: BreakerSnapshot;
  window: WindowCounts;
  transition?: Transition;
}

export const initialSnapshot = (now = 0): BreakerSnapshot => ({
  state: "closed",
  since: now,
  openUntil: 0,
  opens: 0,
  trialsTaken: 0,
  trialSuccesses: 0,
  forced: null,
  forcedUntil: 0,
  version: 0,
  reason: "new breaker",
  calls: 0,
  failures: 0,
  rejections: 0,
});

export const bucketMs = (config: BreakerConfig) => Math.max(1, Math.floor(config.windowMs / 10));

export function effectiveForced(s: BreakerSnapshot, now: number): ForcedState | null {
  return s.forced && (s.forcedUntil === 0 || now < s.forcedUntil) ? s.forced : null;
}

/** The live buckets' totals, and the window without its expired buckets. */
export function windowTotals(window: WindowCounts, config: BreakerConfig, now: number) {
  const size = bucketMs(config);
  const oldest = Math.floor((now - config.windowMs) / size);
  const live: WindowCounts = {};
  let calls = 0;
  let failures = 0;
  let rejections = 0;
  for (const [field, count] of Object.entries(window)) {
    const [bucket, kind] = field.split(":");
    if (Number(bucket) <= oldest) continue;
    live[field] = count;
    if (kind === "c") calls += count;
    else if (kind === "f") failures += count;
    else rejections += count;
  }
  return { calls, failures, rejections, live };
}

const openTime = (config: BreakerConfig, opens: number) =>
  Math.min(config.openMs * 2 ** Math.max(0, opens - 1), config.maxOpenMs);

function open(s: BreakerSnapshot, config: BreakerConfig, now: number, reason: string): BreakerSnapshot {
  const opens = s.opens + 1;
  return {
    ...s,
    state: "open",
    since: now,
    opens,
    openUntil: now + openTime(config, opens),
    trialsTaken: 0,
    trialSuccesses: 0,
    version: s.version + 1,
    reason,
  };
}

const transition = (from: BreakerSnapshot, to: BreakerSnapshot, now: number): Transition => ({
  from: from.state,
  to: to.state,
  at: now,
  reason: to.reason,
  calls: to.calls,
  failures: to.failures,
});

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Adds a batch of outcomes (failures are those that count against the callee) and evaluates. */
export function recordOutcomes(
  s: BreakerSnapshot,
  window: WindowCounts,
  config: BreakerConfig,
  batch: { calls: number; failures: number; rejections?: number; now: number },
): Step {
  const { now } = batch;
  const bucket = Math.floor(now / bucketMs(config));
  const added = { ...window };
  added[`${bucket}:c`] = (added[`${bucket}:c`] ?? 0) + batch.calls;
  added[`${bucket}:f`] = (added[`${bucket}:f`] ?? 0) + batch.failures;
  if (batch.rejections) added[`${bucket}:r`] = (added[`${bucket}:r`] ?? 0) + batch.rejections;
  const { calls, failures, rejections, live } = windowTotals(added, config, now);
  // Calls and failures are evaluated only while closed: an open breaker keeps the figures that opened it.
  const counted = s.state === "closed" ? { ...s, calls, failures, rejections } : { ...s, rejections };
  if (s.state !== "closed" || effectiveForced(s, now)) return { snapshot: counted, window: live };
  const rate = calls > 0 ? failures / calls : 0;
  if (calls < config.minimumCalls || rate < config.failureRate) return { snapshot: counted, window: live };
  const opened = open(
    counted,
    config,
    now,
    `failure rate ${pct(rate)} >= ${pct(config.failureRate)} over ${calls} calls (${failures} failed)`,
  );
  return { snapshot: opened, window: {}, transition: transition(s, opened, now) };
}

/** Asks for a trial call: an open breaker whose time is up turns half-open; the quota holds. */
export function acquireTrial(
  s: BreakerSnapshot,
  window: WindowCounts,
  config: BreakerConfig,
  now: number,
): Step & { granted: boolean } {
  const forced = effectiveForced(s, now);
  if (forced) return { snapshot: s, window, granted: forced !== "open" };
  if (s.state === "closed") return { snapshot: s, window, granted: true };
  let current = s;
  let moved: Transition | undefined;
  if (s.state === "open") {
    if (now < s.openUntil) return { snapshot: s, window, granted: false };
    current = {
      ...s,
      state: "half_open",
      since: now,
      trialsTaken: 0,
      trialSuccesses: 0,
      version: s.version + 1,
      reason: `open for ${now - s.since} ms: letting ${config.halfOpenPermits} trial calls through`,
    };
    moved = transition(s, current, now);
  }
  if (current.trialsTaken >= config.halfOpenPermits) {
    return { snapshot: current, window, granted: false, ...(moved ? { transition: moved } : {}) };
  }
  const taken = { ...current, trialsTaken: current.trialsTaken + 1 };
  return { snapshot: taken, window, granted: true, ...(moved ? { transition: moved } : {}) };
}

/** The outcome of a trial call: enough successes close the breaker, a failure opens it again. */
export function reportTrial(
  s: BreakerSnapshot,
  window: WindowCounts,
  config: BreakerConfig,
  outcome: { ok: boolean; now: number },
): Step {
  const { now } = outcome;
  if (s.state !== "half_open" || effectiveForced(s, now)) return { snapshot: s, window };
  if (!outcome.ok) {
    const reopened = open(s, config, now, "a trial call failed");
    return { snapshot: reopened, window: {}, transition: transition(s, reopened, now) };
  }
  const successes = s.trialSuccesses + 1;
  if (successes < config.halfOpenPermits) return { snapshot: { ...s, trialSuccesses: successes }, window };
  const closed: BreakerSnapshot = {
    ...s,
    state: "closed",
    since: now,
    opens: 0,
    openUntil: 0,
    trialsTaken: 0,
    trialSuccesses: 0,
    calls: 0,
    failures: 0,
    rejections: 0,
    version: s.version + 1,
    reason: `${successes} trial call${successes === 1 ? "" : "s"} succeeded`,
  };
  return { snapshot: closed, window: {}, transition: transition(s, closed, now) };
}

/** An operator's override (null clears it); it lasts until `untilMs` when given. */
export function force(
  s: BreakerSnapshot,
  forced: ForcedState | null,
  now: number,
  untilMs = 0,
): BreakerSnapshot {
  return {
    ...s,
    forced,
    forcedUntil: forced ? untilMs : 0,
    version: s.version + 1,
    reason: forced ? `forced ${forced} by an operator` : "override cleared",
    since: now,
  };
}

/** Forgets the window and any opening: the breaker starts closed and fresh (an override stays). */
export function reset(s: BreakerSnapshot, now: number): Step {
  return {
    snapshot: {
      ...initialSnapshot(now),
      forced: s.forced,
      forcedUntil: s.forcedUntil,
      version: s.version + 1,
      reason: "counters reset by an operator",
    },
    window: {},
  };
}

export type Decision = "pass" | "reject" | "trial";

/** What a caller does with the next call, from its (possibly slightly stale) mirror alone. */
export function decide(s: BreakerSnapshot, now: number): Decision {
  const forced = effectiveForced(s, now);
  if (forced === "open") return "reject";
  if (forced) return "pass";
  if (s.state === "closed") return "pass";
  if (s.state === "open" && now < s.openUntil) return "reject";
  return "trial";
}
