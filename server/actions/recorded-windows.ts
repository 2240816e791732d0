// A pair's recorded outcomes: its callers' stats windows (breaker.stats events) of a period.
import type { Pool } from "../db/pool.ts";
import type { RecordedWindow } from "./what-if.ts";

export async function recordedWindows(
  db: Pick<Pool, "query">,
  pair: string,
  from: Date,
  to: Date,
): Promise<RecordedWindow[]> {
  const { rows } = await db.query<RecordedWindow>(
    `SELECT window_start AS start, window_end AS "end", calls, failures FROM breaker_stats
     WHERE pair = $1 AND window_end > $2 AND window_end <= $3 ORDER BY window_end, instance`,
    [pair, from, to],
  );
  return rows;
}
