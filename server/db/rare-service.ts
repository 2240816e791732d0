// Whether a service is rare enough that its sagas are best found through the GIN index
// (saga_summary_services_idx) before anything else.
//
// Why: the planner estimates `services @> ARRAY[s]` from pg_stats.most_common_elems. A service
// too rare to be listed there is guessed at min(0.5 %, half the rarest listed share), so the
// planner walks the list's order (started_at DESC, saga_id DESC) expecting a match every 200
// rows or so; for a service of a handful of sagas it reads nearly the whole table (hundreds of
// milliseconds at a million sagas) where the index answers in a fraction of a millisecond.
//
// The same statistics tell which services are rare: one absent from most_common_elems was
// below the tracked share at the last ANALYZE (kept a minute per pool). It may have become
// common since (autovacuum analyses again once a tenth of the table has changed), so its
// matches are counted through the index, at most `cap` of them, before the index is trusted.
// A service that grew costs that count, then the ordinary plan: the index's list of its sagas
// and `cap` rows (60-80 ms for a service in half of a million sagas, docs/dashboard-performance.md).
import type { Pool } from "./pool.ts";

type Db = Pick<Pool, "query">;

const STATISTICS_TTL_MS = 60_000;
/**
 * The most matches for which the index path is taken, at least: about the rows the ordinary
 * plan expects to walk for a page of 50 at the planner's 0.5 % guess.
 */
const MIN_CAP = 10_000;
/** The planner's guess for a service absent from the statistics: its highest. */
const UNTRACKED_SHARE = 0.005;

interface ServiceStatistics {
  /** False while saga_summary.services was never analysed: nothing is known, nothing is rare. */
  analyzed: boolean;
  tracked: Set<string>;
  /**
   * Never below the planner's own guess for an untracked service, so that the count below is
   * never planned as a walk of the table that stops early.
   */
  cap: number;
}

const cached = new WeakMap<Db, { at: number; statistics: Promise<ServiceStatistics> }>();

/** True when the list should read this service's sagas through the GIN index first. */
export async function isRareService(db: Db, service: string | undefined): Promise<boolean> {
  if (!service) return false;
  const statistics = await serviceStatistics(db);
  if (!statistics.analyzed || statistics.tracked.has(service)) return false;
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM saga_summary WHERE services @> ARRAY[$1]::text[] LIMIT $2) m`,
    [service, statistics.cap + 1],
  );
  return (rows[0]?.n ?? 0) <= statistics.cap;
}

function serviceStatistics(db: Db): Promise<ServiceStatistics> {
  const now = Date.now();
  const hit = cached.get(db);
  if (hit && now - hit.at < STATISTICS_TTL_MS) return hit.statistics;
  const statistics = readServiceStatistics(db);
  cached.set(db, { at: now, statistics });
  statistics.catch(() => cached.delete(db));
  return statistics;
}

async function readServiceStatistics(db: Db): Promise<ServiceStatistics> {
  const { rows } = await db.query<{ analyzed: boolean; tracked: string[] | null; sagas: number }>(
    `SELECT s.attname IS NOT NULL AS analyzed, s.most_common_elems::text::text[] AS tracked,
            greatest(c.reltuples, 0)::float8 AS sagas
     FROM pg_class c
     LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'saga_summary'
                          AND s.attname = 'services' AND NOT s.inherited
     WHERE c.oid = 'saga_summary'::regclass`,
  );
  const row = rows[0];
  return {
    analyzed: row?.analyzed ?? false,
    tracked: new Set(row?.tracked ?? []),
    cap: Math.max(MIN_CAP, Math.ceil((row?.sagas ?? 0) * UNTRACKED_SHARE)),
  };
}
