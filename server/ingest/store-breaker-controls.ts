// Operators' breaker decisions from the control topic into breaker_control: the newest per
// pair by version (a replayed or reordered message never overwrites a newer decision), and
// messages that break the contract quarantined like any other.
import type { KafkaMessage } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { type BreakerControl, decodeBreakerControl } from "../events/index.ts";
import { type DeadLetter, deadLetterOf, type KafkaPosition, storeBatch } from "./store-batch.ts";

export async function storeBreakerControls(
  pool: Pool,
  topic: string,
  partition: number,
  messages: KafkaMessage[],
): Promise<{ stored: number; deadLettered: number }> {
  const controls: BreakerControl[] = [];
  const letters: DeadLetter[] = [];
  for (const message of messages) {
    const position: KafkaPosition = { topic, partition, offset: Number(message.offset) };
    // Compaction may leave a pair's tombstone (no value): nothing to store, nothing wrong.
    if (message.value === null) continue;
    const decoded = decodeBreakerControl(message);
    if (decoded.ok) controls.push(decoded.control);
    else letters.push(deadLetterOf(message, position, decoded.reason));
  }
  const deadLettered = letters.length ? (await storeBatch(pool, { deadLetters: letters })).deadLettered : 0;
  if (controls.length === 0) return { stored: 0, deadLettered };
  const rows = controls.map((c) => ({
    pair: c.pair,
    forced: c.forced,
    forced_until: c.forcedUntil,
    failure_rate: c.thresholds?.failureRate ?? null,
    minimum_calls: c.thresholds?.minimumCalls ?? null,
    open_ms: c.thresholds?.openMs ?? null,
    version: c.version,
    requested_by: c.requestedBy,
    reason: c.reason,
  }));
  const stored = await withTransaction(pool, async (client) => {
    const result = await client.query(
      `INSERT INTO breaker_control (pair, forced, forced_until, failure_rate, minimum_calls, open_ms, version,
                                    requested_by, reason)
       SELECT DISTINCT ON (pair) pair, forced, forced_until, failure_rate, minimum_calls, open_ms, version,
              requested_by, reason
       FROM json_to_recordset($1::json) AS r(pair text, forced text, forced_until timestamptz,
            failure_rate double precision, minimum_calls int, open_ms int, version bigint, requested_by text,
            reason text)
       ORDER BY pair, version DESC
       ON CONFLICT (pair) DO UPDATE SET
         forced = excluded.forced, forced_until = excluded.forced_until, failure_rate = excluded.failure_rate,
         minimum_calls = excluded.minimum_calls, open_ms = excluded.open_ms, version = excluded.version,
         requested_by = excluded.requested_by, reason = excluded.reason, ingested_at = now()
       WHERE breaker_control.version < excluded.version`,
      [JSON.stringify(rows)],
    );
    return result.rowCount ?? 0;
  });
  return { stored, deadLettered };
}
