// One breaker pair's history for the dashboard, from what the ingester stored: its state over a
// range as a band of segments (breaker_transition), and per time bucket the callers' calls,
// outcomes, rejections, failure rate and latency summed over instances (breaker_stats).
import type { CallCounts } from "../../breakers/breaker-call-stats.ts";
import type { BreakerStateName, ForcedState } from "../../breakers/index.ts";
import type { Pool } from "../../db/pool.ts";
import { postgresFailure } from "../../source-failure.ts";

/** The ranges the page offers, each cut into at most 121 buckets. */
export const HISTORY_RANGES = {
  "15m": { ms: 15 * 60_000, bucketMs: 10_000 },
  "1h": { ms: 60 * 60_000, bucketMs: 30_000 },
  "6h": { ms: 6 * 60 * 60_000, bucketMs: 3 * 60_000 },
  "24h": { ms: 24 * 60 * 60_000, bucketMs: 12 * 60_000 },
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;
export const HISTORY_RANGE_KEYS = Object.keys(HISTORY_RANGES) as [HistoryRange, ...HistoryRange[]];

/** Above this many transitions in the range, the band is drawn per bucket instead of per transition. */
export const MAX_EXACT_TRANSITIONS = 500;
const LAST_TRANSITIONS = 20;

export interface HistoryPoint extends CallCounts {
  /** The bucket's start; stats windows belong to the bucket their end falls in. */
  at: Date;
  /** failures / calls, as the breaker counts it (business refusals are calls, not failures); null without calls. */
  failureRate: number | null;
  /** Per percentile, the slowest instance's figure in the bucket (percentiles cannot be summed); null without calls. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** Caller instances that reported in the bucket. */
  instances: number;
  /** An override some caller reported in the bucket (the latest one), if any. */
  forced: ForcedState | null;
}

export interface StateSegment {
  from: Date;
  to: Date;
  state: BreakerStateName;
  /** The override in force when the transition that began the segment happened. */
  forced: ForcedState | null;
  reason: string;
  /** Transitions inside the segment that the band does not draw (only when drawn per bucket). */
  changes: number;
}

export interface TransitionRecord {
  time: Date;
  from: BreakerStateName;
  to: BreakerStateName;
  forced: ForcedState | null;
  reason: string;
  instance: string;
  calls: number;
  failures: number;
  failureRateThreshold: number;
  minimumCalls: number;
  openUntil: Date | null;
}

export interface PairHistory {
  pair: string;
  range: { key: HistoryRange; from: Date; to: Date; bucketMs: number };
  points: HistoryPoint[];
  segments: StateSegment[];
  /** False when the range held more than MAX_EXACT_TRANSITIONS transitions and the band is per bucket. */
  segmentsExact: boolean;
  /** The pair's newest transitions, whatever the range. */
  transitions: TransitionRecord[];
}

interface TransitionRow {
  time: Date;
  from_state: BreakerStateName;
  to_state: BreakerStateName;
  forced: ForcedState | null;
  reason: string;
}

export async function readPairHistory(
  pool: Pool,
  pair: string,
  key: HistoryRange,
  now = Date.now(),
): Promise<PairHistory> {
  const { ms, bucketMs } = HISTORY_RANGES[key];
  const from = Math.floor((now - ms) / bucketMs) * bucketMs;
  const lastBucket = Math.floor(now / bucketMs) * bucketMs;
  const end = lastBucket + bucketMs;
  try {
    const [points, band, transitions] = await Promise.all([
      readPoints(pool, pair, from, end, bucketMs),
      readBand(pool, pair, from, now, bucketMs),
      readLastTransitions(pool, pair),
    ]);
    return {
      pair,
      range: { key, from: new Date(from), to: new Date(now), bucketMs },
      points,
      ...band,
      transitions,
    };
  } catch (error) {
    throw postgresFailure("the breaker's history", error);
  }
}

async function readPoints(pool: Pool, pair: string, from: number, end: number, bucketMs: number) {
  const { rows } = await pool.query<
    CallCounts & {
      bucket: Date;
      p50: number | null;
      p95: number | null;
      p99: number | null;
      max: number | null;
      instances: number;
      forced: ForcedState | null;
    }
  >(
    // Rows without calls (only rejections) carry no latency, so they do not pull a percentile to 0.
    `SELECT date_bin(make_interval(secs => $4::double precision / 1000), window_end, 'epoch'::timestamptz) AS bucket,
            sum(calls) AS calls, sum(successes) AS successes, sum(business) AS business,
            sum(failures) AS failures, sum(rejections) AS rejections, sum(trials) AS trials,
            max(latency_p50) FILTER (WHERE calls > 0) AS p50,
            max(latency_p95) FILTER (WHERE calls > 0) AS p95,
            max(latency_p99) FILTER (WHERE calls > 0) AS p99,
            max(latency_max) FILTER (WHERE calls > 0) AS max,
            count(DISTINCT instance)::int AS instances,
            (array_agg(forced ORDER BY window_end DESC) FILTER (WHERE forced IS NOT NULL))[1] AS forced
       FROM breaker_stats
      WHERE pair = $1 AND window_end >= $2 AND window_end < $3
      GROUP BY 1`,
    [pair, new Date(from), new Date(end), bucketMs],
  );
  const byBucket = new Map(rows.map((r) => [r.bucket.getTime(), r]));
  const points: HistoryPoint[] = [];
  for (let at = from; at < end; at += bucketMs) {
    const r = byBucket.get(at);
    const calls = Number(r?.calls ?? 0);
    const failures = Number(r?.failures ?? 0);
    points.push({
      at: new Date(at),
      calls,
      successes: Number(r?.successes ?? 0),
      business: Number(r?.business ?? 0),
      failures,
      rejections: Number(r?.rejections ?? 0),
      trials: Number(r?.trials ?? 0),
      failureRate: calls > 0 ? failures / calls : null,
      latencyMs: { p50: r?.p50 ?? null, p95: r?.p95 ?? null, p99: r?.p99 ?? null, max: r?.max ?? null },
      instances: r?.instances ?? 0,
      forced: r?.forced ?? null,
    });
  }
  return points;
}

/** The state at the range's start: the last transition before it, or what the first one left. */
async function initialState(pool: Pool, pair: string, from: number) {
  const { rows } = await pool.query<TransitionRow>(
    `(SELECT time, from_state, to_state, forced, reason, 0 AS side FROM breaker_transition
       WHERE pair = $1 AND time < $2 ORDER BY time DESC, id DESC LIMIT 1)
     UNION ALL
     (SELECT time, from_state, to_state, forced, reason, 1 AS side FROM breaker_transition
       WHERE pair = $1 AND time >= $2 ORDER BY time, id LIMIT 1)
     ORDER BY side`,
    [pair, new Date(from)],
  );
  const [first] = rows;
  if (!first) {
    return {
      state: "closed" as const,
      forced: null,
      reason: "no transition recorded: a breaker starts closed",
    };
  }
  if (first.time.getTime() < from)
    return { state: first.to_state, forced: first.forced, reason: first.reason };
  return { state: first.from_state, forced: null, reason: "before its first recorded transition" };
}

async function readBand(
  pool: Pool,
  pair: string,
  from: number,
  now: number,
  bucketMs: number,
): Promise<{ segments: StateSegment[]; segmentsExact: boolean }> {
  const [initial, inRange] = await Promise.all([
    initialState(pool, pair, from),
    pool.query<TransitionRow>(
      `SELECT time, from_state, to_state, forced, reason FROM breaker_transition
        WHERE pair = $1 AND time >= $2 AND time <= $3 ORDER BY time, id LIMIT $4`,
      [pair, new Date(from), new Date(now), MAX_EXACT_TRANSITIONS + 1],
    ),
  ]);
  if (inRange.rows.length <= MAX_EXACT_TRANSITIONS) {
    return { segments: exactSegments(initial, inRange.rows, from, now), segmentsExact: true };
  }
  return { segments: await bucketSegments(pool, pair, initial, from, now, bucketMs), segmentsExact: false };
}

type SegmentStart = Pick<StateSegment, "state" | "forced" | "reason">;

/** One segment per transition: each lasts until the next one (or now). */
function exactSegments(
  initial: SegmentStart,
  transitions: TransitionRow[],
  from: number,
  now: number,
): StateSegment[] {
  const segments: StateSegment[] = [];
  let start = from;
  let current = initial;
  for (const t of transitions) {
    const at = t.time.getTime();
    if (at > start) segments.push({ from: new Date(start), to: new Date(at), ...current, changes: 0 });
    start = Math.max(start, at);
    current = { state: t.to_state, forced: t.forced, reason: t.reason };
  }
  segments.push({ from: new Date(start), to: new Date(now), ...current, changes: 0 });
  return segments;
}

/** A flapping breaker: the state at each bucket's start, buckets alike merged, transitions inside counted. */
async function bucketSegments(
  pool: Pool,
  pair: string,
  initial: SegmentStart,
  from: number,
  now: number,
  bucketMs: number,
): Promise<StateSegment[]> {
  const { rows } = await pool.query<{
    start: Date;
    to_state: BreakerStateName | null;
    forced: ForcedState | null;
    reason: string | null;
    changes: number;
  }>(
    `SELECT b.start, s.to_state, s.forced, s.reason, c.changes
       FROM generate_series($2::timestamptz, $3::timestamptz, make_interval(secs => $4::double precision / 1000)) AS b(start)
       LEFT JOIN LATERAL (
         SELECT to_state, forced, reason FROM breaker_transition
          WHERE pair = $1 AND time <= b.start ORDER BY time DESC, id DESC LIMIT 1) s ON true
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS changes FROM breaker_transition
          WHERE pair = $1 AND time > b.start AND time < b.start + make_interval(secs => $4::double precision / 1000)
            AND time <= $5) c
      ORDER BY b.start`,
    [pair, new Date(from), new Date(Math.floor(now / bucketMs) * bucketMs), bucketMs, new Date(now)],
  );
  const segments: StateSegment[] = [];
  for (const r of rows) {
    const at = r.start.getTime();
    const state: SegmentStart = r.to_state
      ? { state: r.to_state, forced: r.forced, reason: r.reason ?? "" }
      : initial;
    const last = segments.at(-1);
    if (last && last.state === state.state && last.forced === state.forced) {
      last.to = new Date(Math.min(at + bucketMs, now));
      last.changes += r.changes;
    } else {
      segments.push({
        from: new Date(at),
        to: new Date(Math.min(at + bucketMs, now)),
        ...state,
        changes: r.changes,
      });
    }
  }
  return segments;
}

async function readLastTransitions(pool: Pool, pair: string): Promise<TransitionRecord[]> {
  const { rows } = await pool.query<
    TransitionRow & {
      instance: string;
      calls: number;
      failures: number;
      failure_rate_threshold: number;
      minimum_calls: number;
      open_until: Date | null;
    }
  >(
    `SELECT time, from_state, to_state, forced, reason, instance, calls, failures, failure_rate_threshold,
            minimum_calls, open_until
       FROM breaker_transition WHERE pair = $1 ORDER BY time DESC, id DESC LIMIT $2`,
    [pair, LAST_TRANSITIONS],
  );
  return rows.map((r) => ({
    time: r.time,
    from: r.from_state,
    to: r.to_state,
    forced: r.forced,
    reason: r.reason,
    instance: r.instance,
    calls: r.calls,
    failures: r.failures,
    failureRateThreshold: r.failure_rate_threshold,
    minimumCalls: r.minimum_calls,
    openUntil: r.open_until,
  }));
}
