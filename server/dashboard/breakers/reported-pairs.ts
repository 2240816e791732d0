// Pairs that Sagascope knows only from their breaker events: a breaker of another library
// (opossum, cockatiel, Resilience4j through a bridge, or any producer of the contract) keeps
// its state in its own process, not in Sagascope's Redis. Their state is the last one they
// reported (a state change or a stats window, whichever is newer); their window, the last
// stats window; their thresholds, those the last state change carried.
import type { Pool } from "../../db/pool.ts";
import { postgresFailure } from "../../source-failure.ts";
import type { BreakerDto } from "./list-breakers.ts";

/** A pair that reported nothing for this long is no longer listed (its history stays readable). */
export const REPORTED_PAIR_TTL_MS = 24 * 3600_000;
/** The most such pairs listed: the matrix is for a fleet, not for every pair ever seen. */
export const MAX_REPORTED_PAIRS = 500;

type State = BreakerDto["state"];
type Forced = BreakerDto["forced"];

interface LatestRow {
  pair: string;
  caller: string;
  callee: string;
  operation: string | null;
  instance: string;
  state: State;
  forced: Forced;
  at: Date;
  reason: string | null;
  calls: number | null;
  failures: number | null;
  failure_rate_threshold: number | null;
  minimum_calls: number | null;
  open_until: Date | null;
  transition_at: Date | null;
  window_calls: number | null;
  window_failures: number | null;
  window_rejections: number | null;
  window_ms: number | null;
}

const asState = (s: string): State => (s === "open" || s === "half_open" ? s : "closed");

export async function readReportedPairs(
  pool: Pick<Pool, "query">,
  except: string[],
  now = Date.now(),
): Promise<BreakerDto[]> {
  const since = new Date(now - REPORTED_PAIR_TTL_MS);
  let rows: LatestRow[];
  try {
    ({ rows } = await pool.query<LatestRow>(
      `WITH t AS (
         SELECT DISTINCT ON (pair) pair, caller, callee, operation, instance, to_state, forced, time, reason, calls,
                failures, failure_rate_threshold, minimum_calls, open_until
         FROM breaker_transition WHERE time > $1 AND NOT (pair = ANY($2)) ORDER BY pair, time DESC
       ), s AS (
         SELECT DISTINCT ON (pair) pair, caller, callee, instance, state, forced, window_start, window_end, calls,
                failures, rejections
         FROM breaker_stats WHERE window_end > $1 AND NOT (pair = ANY($2)) ORDER BY pair, window_end DESC
       )
       SELECT coalesce(t.pair, s.pair) AS pair, coalesce(t.caller, s.caller) AS caller,
              coalesce(t.callee, s.callee) AS callee, t.operation,
              CASE WHEN s.window_end > t.time OR t.time IS NULL THEN s.instance ELSE t.instance END AS instance,
              CASE WHEN s.window_end > t.time OR t.time IS NULL THEN s.state ELSE t.to_state END AS state,
              CASE WHEN s.window_end > t.time OR t.time IS NULL THEN s.forced ELSE t.forced END AS forced,
              greatest(t.time, s.window_end) AS at, t.reason, t.calls, t.failures, t.failure_rate_threshold,
              t.minimum_calls, t.open_until, t.time AS transition_at, s.calls AS window_calls,
              s.failures AS window_failures, s.rejections AS window_rejections,
              (extract(epoch FROM s.window_end - s.window_start) * 1000)::int AS window_ms
       FROM t FULL JOIN s ON s.pair = t.pair
       ORDER BY pair LIMIT $3`,
      [since, except, MAX_REPORTED_PAIRS],
    ));
  } catch (error) {
    throw postgresFailure("the breakers reported by events", error);
  }
  const controls = await readControls(
    pool,
    rows.map((r) => r.pair),
    since,
  );
  return rows.map((r) => {
    const calls = r.calls ?? 0;
    const failures = r.failures ?? 0;
    const windowCalls = r.window_calls ?? 0;
    const windowFailures = r.window_failures ?? 0;
    return {
      pair: r.pair,
      caller: r.caller,
      callee: r.callee,
      operation: r.operation,
      state: asState(r.state),
      forced: r.forced === "open" || r.forced === "closed" || r.forced === "disabled" ? r.forced : null,
      forcedUntil: null,
      since: r.transition_at,
      openUntil: asState(r.state) === "open" ? r.open_until : null,
      reason: r.reason ?? "",
      window: {
        calls: windowCalls,
        failures: windowFailures,
        rejections: r.window_rejections ?? 0,
        failureRate: windowCalls > 0 ? windowFailures / windowCalls : 0,
      },
      lastEvaluation: { calls, failures, failureRate: calls > 0 ? failures / calls : 0 },
      config: null,
      reported: {
        instance: r.instance,
        at: r.at,
        failureRate: r.failure_rate_threshold,
        minimumCalls: r.minimum_calls,
        windowMs: r.window_ms,
      },
      trials: { taken: 0, succeeded: 0 },
      transitions: [],
      control: controls.get(r.pair) ?? null,
    } satisfies BreakerDto;
  });
}

interface ControlRow {
  pair: string;
  desired: BreakerDto["forced"];
  forced_until: Date | null;
  requested_by: string;
  at: Date;
  reason: string;
  acknowledged: string[];
  waiting: string[];
}

/**
 * The operators' decisions for these pairs, and per reporting instance whether it applied
 * one: its newest report (a stats window or a state change) came after the decision and
 * carries the forced state decided (none, once a decision's expiry has passed).
 */
async function readControls(
  pool: Pick<Pool, "query">,
  pairs: string[],
  since: Date,
): Promise<Map<string, NonNullable<BreakerDto["control"]>>> {
  if (pairs.length === 0) return new Map();
  let rows: ControlRow[];
  try {
    ({ rows } = await pool.query<ControlRow>(
      `SELECT c.pair, d.desired, c.forced_until, c.requested_by, to_timestamp(c.version / 1000.0) AS at, c.reason,
              coalesce(array_agg(r.instance ORDER BY r.instance) FILTER (WHERE r.applied), '{}') AS acknowledged,
              coalesce(array_agg(r.instance ORDER BY r.instance) FILTER (WHERE NOT r.applied), '{}') AS waiting
       FROM breaker_control c
       CROSS JOIN LATERAL (
         SELECT CASE WHEN c.forced_until IS NULL OR c.forced_until > now() THEN c.forced END AS desired
       ) d
       LEFT JOIN LATERAL (
         SELECT instance,
                max(at) >= to_timestamp(c.version / 1000.0)
                  AND (array_agg(forced ORDER BY at DESC))[1] IS NOT DISTINCT FROM d.desired AS applied
         FROM (
           SELECT instance, window_end AS at, forced FROM breaker_stats WHERE pair = c.pair AND window_end > $2
           UNION ALL
           SELECT instance, time, forced FROM breaker_transition WHERE pair = c.pair AND time > $2
         ) reports
         GROUP BY instance
       ) r ON true
       WHERE c.pair = ANY($1)
       GROUP BY c.pair, d.desired, c.forced_until, c.requested_by, c.version, c.reason`,
      [pairs, since],
    ));
  } catch (error) {
    throw postgresFailure("the operators' breaker decisions", error);
  }
  return new Map(
    rows.map((r) => [
      r.pair,
      {
        forced: r.desired,
        forcedUntil: r.desired ? r.forced_until : null,
        requestedBy: r.requested_by,
        at: r.at,
        reason: r.reason,
        acknowledgedBy: r.acknowledged,
        waitingFor: r.waiting,
      },
    ]),
  );
}
