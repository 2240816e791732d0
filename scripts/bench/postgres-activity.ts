// What the Postgres server did between two readings, whoever asked it: checkpoints begun (by
// their schedule or requested, most often by the WAL's volume) and WAL written. A latency
// figure that jumps for a few seconds is often a checkpoint: for a while after one, every page
// first written again goes to the WAL whole. Server-wide counters, so they count other
// databases' work too; they say what the server went through, not what the bench caused.
import type pg from "pg";

export interface PostgresActivity {
  checkpointsTimed: number;
  checkpointsRequested: number;
  walBytes: number;
}

/**
 * The server's counters so far (Postgres 15 or later). A session hands its counts to them
 * within about a second of its transactions (this one's own at once); Postgres 17 moved the
 * checkpoints' counters from pg_stat_bgwriter to pg_stat_checkpointer, and either is read.
 */
export async function postgresActivity(client: Pick<pg.Client, "query">): Promise<PostgresActivity> {
  await client.query("SELECT pg_stat_force_next_flush()");
  const { rows } = await client.query<{ newer: boolean }>(
    "SELECT to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL AS newer",
  );
  const checkpoints = rows[0]?.newer
    ? "SELECT num_timed AS timed, num_requested AS requested FROM pg_stat_checkpointer"
    : "SELECT checkpoints_timed AS timed, checkpoints_req AS requested FROM pg_stat_bgwriter";
  const { rows: read } = await client.query<{ timed: string; requested: string; wal_bytes: string }>(
    `SELECT c.timed, c.requested, w.wal_bytes FROM (${checkpoints}) c, pg_stat_wal w`,
  );
  return {
    checkpointsTimed: Number(read[0]?.timed ?? 0),
    checkpointsRequested: Number(read[0]?.requested ?? 0),
    walBytes: Number(read[0]?.wal_bytes ?? 0),
  };
}

/** What happened between two readings: checkpoints begun, and MiB of WAL written. */
export function activityBetween(before: PostgresActivity, after: PostgresActivity) {
  return {
    checkpoints: {
      timed: after.checkpointsTimed - before.checkpointsTimed,
      requested: after.checkpointsRequested - before.checkpointsRequested,
    },
    walMiB: Math.round(((after.walBytes - before.walBytes) / 2 ** 20) * 10) / 10,
  };
}
