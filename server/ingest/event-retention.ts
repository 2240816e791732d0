// Retention: every round (hourly by default), the saga_event months older than the kept ones
// are dropped whole, with their events' identities and the summaries of sagas that ended in
// them (sagascope_drop_event_partitions, one caller at a time across ingesters).
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../log.ts";
import { createPeriodic, type Periodic } from "../periodic.ts";

export async function dropExpiredMonths(pool: Pick<Pool, "query">, keepMonths: number): Promise<string[]> {
  const { rows } = await pool.query<{ dropped: string[] }>(
    "SELECT sagascope_drop_event_partitions($1) AS dropped",
    [keepMonths],
  );
  return rows[0]?.dropped ?? [];
}

export function createEventRetention(deps: {
  pool: Pick<Pool, "query">;
  keepMonths: number;
  everyMs: number;
  log: Logger;
}): Periodic {
  return createPeriodic(
    deps.everyMs,
    async () => {
      const dropped = await dropExpiredMonths(deps.pool, deps.keepMonths);
      if (dropped.length > 0)
        deps.log.info("saga events past retention dropped", { months: dropped, keepMonths: deps.keepMonths });
    },
    (error) => deps.log.warn("retention round failed; the next one tries again", { error: String(error) }),
  );
}
