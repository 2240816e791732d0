// The overview: what is happening across every saga, breaker and projection right now,
// each figure a door to the filtered list behind it.

import { WAITING_ON, type WaitingOn } from "../../../browser-safe/waiting-on.ts";
import { effectiveForced } from "../../breakers/breaker-machine.ts";
import type { BreakerStore } from "../../breakers/index.ts";
import type { Pool } from "../../db/pool.ts";
import { readReportedPairs } from "../breakers/reported-pairs.ts";
import { countOpenByReason } from "../dead-letters/list-dead-letters.ts";

export interface MinuteCounts {
  minute: Date;
  started: number;
  completed: number;
  compensated: number;
  failed: number;
}

export interface Overview {
  perMinute: MinuteCounts[];
  inFlight: number;
  stuck: number;
  /**
   * Stuck sagas by what they wait on (waiting-on.ts), and under "operator" the sagas whose
   * compensation was given up (ended, not stuck), under "paused" the sagas an operator paused
   * (never stuck); "unclassified" for sagas last folded before
   * the kinds existed. Only kinds with a count.
   */
  waiting: { kind: WaitingOn | "unclassified"; count: number }[];
  failedLastHour: number;
  durationMs: { p50: number | null; p95: number | null };
  breakers: { total: number; open: number };
  projection: { offsetLag: number; timeLagMs: number | null; sampledAt: Date } | null;
  ingestPerSecond: number;
  /** Quarantined messages nobody has replayed or discarded yet, by kind of reason. */
  deadLetters: { open: number; byReason: { kind: string; count: number }[] };
  /** How far back saga events go (the oldest month kept), and how many months are kept (0: all). */
  retention: { dataSince: Date | null; keepMonths: number };
}

const MINUTES = 60;

export async function readOverview(
  pool: Pool,
  breakerStore: BreakerStore,
  keepMonths: number,
  now = new Date(),
): Promise<Overview> {
  const since = new Date(now.getTime() - MINUTES * 60_000);
  const [started, ended, live, waiting, durations, lag, ingested, breakers, letters, oldest] =
    await Promise.all([
      pool.query(
        `SELECT date_trunc('minute', started_at) AS m, count(*)::int AS n FROM saga_summary
       WHERE started_at > $1 GROUP BY 1`,
        [since],
      ),
      pool.query(
        `SELECT date_trunc('minute', ended_at) AS m, status, count(*)::int AS n FROM saga_summary
       WHERE ended_at > $1 GROUP BY 1, 2`,
        [since],
      ),
      pool.query(
        `SELECT count(*)::int AS in_flight,
              (SELECT count(*)::int FROM saga_summary WHERE stuck) AS stuck
       FROM saga_summary WHERE status IN ('running', 'compensating', 'timed_out')`,
      ),
      pool.query<{ kind: WaitingOn | "unclassified"; n: number }>(
        `SELECT coalesce(waiting_on, 'unclassified') AS kind, count(*)::int AS n FROM saga_summary
       WHERE stuck OR waiting_on IN ('operator', 'paused') GROUP BY 1`,
      ),
      pool.query(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at) * 1000) AS p95
       FROM saga_summary WHERE ended_at > $1`,
        [since],
      ),
      pool.query(
        `SELECT time, sum(offset_lag)::bigint AS offset_lag, max(time_lag_ms) AS time_lag_ms FROM projection_lag_sample
       WHERE checkpoint_id = (SELECT checkpoint_id FROM projection_lag_sample WHERE active ORDER BY time DESC LIMIT 1)
       GROUP BY time`,
      ),
      pool.query(`SELECT count(*)::int AS n FROM saga_event WHERE ingested_at > $1`, [
        new Date(now.getTime() - 60_000),
      ]),
      countBreakers(pool, breakerStore, now.getTime()).catch(() => ({ total: 0, open: 0 })),
      countOpenByReason(pool),
      pool.query<{ since: Date | null }>("SELECT sagascope_event_data_since() AS since"),
    ]);

  const minutes = new Map<number, MinuteCounts>();
  const start = Math.floor(since.getTime() / 60_000) * 60_000;
  for (let t = start + 60_000; t <= now.getTime(); t += 60_000) {
    minutes.set(t, { minute: new Date(t), started: 0, completed: 0, compensated: 0, failed: 0 });
  }
  const at = (m: Date) => minutes.get(m.getTime());
  for (const r of started.rows) {
    const row = at(r.m);
    if (row) row.started += r.n;
  }
  let failedLastHour = 0;
  for (const r of ended.rows) {
    const row = at(r.m);
    if (r.status === "failed") failedLastHour += r.n;
    if (row && (r.status === "completed" || r.status === "compensated" || r.status === "failed")) {
      row[r.status as "completed" | "compensated" | "failed"] += r.n;
    }
  }
  const lagRow = lag.rows[0];
  return {
    perMinute: [...minutes.values()],
    inFlight: live.rows[0]?.in_flight ?? 0,
    stuck: live.rows[0]?.stuck ?? 0,
    waiting: [...WAITING_ON, "unclassified" as const].flatMap((kind) => {
      const count = waiting.rows.find((r) => r.kind === kind)?.n ?? 0;
      return count > 0 ? [{ kind, count }] : [];
    }),
    failedLastHour,
    durationMs: {
      p50: durations.rows[0]?.p50 === null ? null : Math.round(durations.rows[0]?.p50),
      p95: durations.rows[0]?.p95 === null ? null : Math.round(durations.rows[0]?.p95),
    },
    breakers,
    projection: lagRow
      ? { offsetLag: Number(lagRow.offset_lag), timeLagMs: lagRow.time_lag_ms, sampledAt: lagRow.time }
      : null,
    ingestPerSecond: Math.round(((ingested.rows[0]?.n ?? 0) / 60) * 10) / 10,
    deadLetters: {
      open: letters.reduce((sum, l) => sum + l.count, 0),
      byReason: letters.slice(0, 5).map(({ kind, count }) => ({ kind, count })),
    },
    retention: { dataSince: oldest.rows[0]?.since ?? null, keepMonths },
  };
}

/** Sagascope's own pairs (from Redis) and those other libraries report (from their events). */
async function countBreakers(pool: Pool, store: BreakerStore, now: number) {
  const pairs = await store.listPairs();
  const [states, reported] = await Promise.all([
    Promise.all(pairs.map((p) => store.readState(p))),
    readReportedPairs(pool, pairs, now),
  ]);
  const open =
    states.filter((s) => {
      const forced = effectiveForced(s, now);
      return forced === "open" || (!forced && s.state !== "closed");
    }).length + reported.filter((r) => r.forced === "open" || (!r.forced && r.state !== "closed")).length;
  return { total: pairs.length + reported.length, open };
}
