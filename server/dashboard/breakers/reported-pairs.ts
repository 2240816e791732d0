// Pairs that Sagascope knows only from their breaker events: a breaker of another library
// (opossum, cockatiel, Resilience4j through a bridge, or any producer of the contract) keeps
// its state in its own process, not in Sagascope's Redis. Their state is the last one they
// reported (a state change or a stats window, whichever is newer); their window, the last
// stats window; their thresholds, those the last state change carried.
import type { Pool } from "../../db/pool.ts";
import type { BreakerDto } from "./list-breakers.ts";
import { postgresFailure } from "./source-failure.ts";

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
    } satisfies BreakerDto;
  });
}
