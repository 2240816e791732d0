// Breaker state changes and stats windows into their tables, idempotent on the event id.
import type { PoolClient } from "../db/pool.ts";
import type { BreakerEvent } from "../events/index.ts";
import type { KafkaPosition } from "./store-batch.ts";

export const BREAKER_CHANGES_CHANNEL = "sagascope_breaker_changes";

export interface IncomingBreakerEvent {
  event: BreakerEvent;
  position: KafkaPosition;
}

/** Inserts the events; returns the pairs that got something new, and the stats windows new to the store. */
export async function insertBreakerEvents(
  client: PoolClient,
  items: IncomingBreakerEvent[],
): Promise<{ pairs: string[]; newWindows: BreakerEvent[] }> {
  if (items.length === 0) return { pairs: [], newWindows: [] };
  const transitions = items.filter((i) => i.event.type === "io.sagascope.breaker.state_changed");
  const stats = items.filter((i) => i.event.type === "io.sagascope.breaker.stats");
  const pairs = new Set<string>();
  const newWindows: BreakerEvent[] = [];
  if (transitions.length > 0) {
    const rows = transitions.map(({ event, position }) => {
      const d = event.data as Extract<BreakerEvent["data"], { from: string }>;
      return {
        id: event.id,
        time: event.time.toISOString(),
        pair: d.pair,
        caller: d.caller,
        callee: d.callee,
        operation: d.operation ?? null,
        instance: d.instance,
        from_state: d.from,
        to_state: d.to,
        forced: d.forced,
        reason: d.reason,
        calls: d.calls,
        failures: d.failures,
        failure_rate_threshold: d.failureRateThreshold,
        minimum_calls: d.minimumCalls,
        open_until: d.openUntil ?? null,
        kafka_partition: position.partition,
        kafka_offset: position.offset,
      };
    });
    const r = await client.query<{ pair: string }>(
      `INSERT INTO breaker_transition (id, time, pair, caller, callee, operation, instance, from_state, to_state, forced,
         reason, calls, failures, failure_rate_threshold, minimum_calls, open_until, kafka_partition, kafka_offset)
       SELECT * FROM json_to_recordset($1::json) AS r(id text, time timestamptz, pair text, caller text, callee text,
         operation text, instance text, from_state text, to_state text, forced text, reason text, calls int,
         failures int, failure_rate_threshold double precision, minimum_calls int, open_until timestamptz,
         kafka_partition int, kafka_offset bigint)
       ON CONFLICT DO NOTHING RETURNING pair`,
      [JSON.stringify(rows)],
    );
    for (const row of r.rows) pairs.add(row.pair);
  }
  if (stats.length > 0) {
    const rows = stats.map(({ event }) => {
      const d = event.data as Extract<BreakerEvent["data"], { windowStart: string }>;
      return {
        id: event.id,
        pair: d.pair,
        caller: d.caller,
        callee: d.callee,
        instance: d.instance,
        window_start: d.windowStart,
        window_end: d.windowEnd,
        state: d.state,
        forced: d.forced,
        calls: d.calls,
        successes: d.successes,
        business: d.business,
        failures: d.failures,
        rejections: d.rejections,
        trials: d.trials,
        latency_p50: d.latencyMs.p50,
        latency_p95: d.latencyMs.p95,
        latency_p99: d.latencyMs.p99,
        latency_max: d.latencyMs.max,
      };
    });
    const r = await client.query<{ id: string; pair: string }>(
      `INSERT INTO breaker_stats (id, pair, caller, callee, instance, window_start, window_end, state, forced, calls,
         successes, business, failures, rejections, trials, latency_p50, latency_p95, latency_p99, latency_max)
       SELECT * FROM json_to_recordset($1::json) AS r(id text, pair text, caller text, callee text, instance text,
         window_start timestamptz, window_end timestamptz, state text, forced text, calls int, successes int,
         business int, failures int, rejections int, trials int, latency_p50 double precision,
         latency_p95 double precision, latency_p99 double precision, latency_max double precision)
       ON CONFLICT DO NOTHING RETURNING id, pair`,
      [JSON.stringify(rows)],
    );
    for (const row of r.rows) pairs.add(row.pair);
    const inserted = new Set(r.rows.map((row) => row.id));
    newWindows.push(...stats.filter(({ event }) => inserted.has(event.id)).map(({ event }) => event));
  }
  if (pairs.size > 0)
    await client.query("SELECT pg_notify($1, $2)", [
      BREAKER_CHANGES_CHANNEL,
      JSON.stringify([...pairs].slice(0, 100)),
    ]);
  return { pairs: [...pairs], newWindows };
}
