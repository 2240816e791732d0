// The read model's tables, one schema per generation (projection_g1, projection_g2, …), so a
// rebuild fills a fresh generation from offset zero while the active one keeps serving, and
// the switch is one row. Every view row counts the changes applied to it: with the versions
// the changes carry, "applied" equals the sum of versions when nothing was applied twice or skipped.
import type { Pool, PoolClient } from "../db/pool.ts";
import { serializedDdl } from "../db/serialized-ddl.ts";

export const PROJECTION = "fleet";
export const schemaOf = (generation: number) => `projection_g${generation}`;

export async function createReadModel(pool: Pool, generation: number): Promise<void> {
  const s = schemaOf(generation);
  await serializedDdl(pool, "projection", [
    `CREATE SCHEMA IF NOT EXISTS projection_control`,
    `CREATE TABLE IF NOT EXISTS projection_control.generation (
      projection text PRIMARY KEY, active int NOT NULL, switched_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.order_view (
      order_id text PRIMARY KEY, customer_id text, sku text, quantity int, amount_cents bigint,
      order_status text, placed_at timestamptz, payment_status text, reservation_status text, shipment_id text,
      order_version int NOT NULL DEFAULT 0, payment_version int NOT NULL DEFAULT 0,
      reservation_version int NOT NULL DEFAULT 0, shipment_version int NOT NULL DEFAULT 0,
      applied_changes int NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.account_view (
      account_id text PRIMARY KEY, bank text NOT NULL, account text NOT NULL, balance bigint NOT NULL,
      closed boolean NOT NULL, version int NOT NULL, applied_changes int NOT NULL DEFAULT 0,
      last_change_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.applied_offset (
      topic text NOT NULL, partition int NOT NULL, last_offset bigint NOT NULL,
      newest_occurred_at timestamptz, applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (topic, partition))`,
    // Which change (by event id) reached the read model, from where, and when: what answers
    // "has the read model seen this?" exactly. Kept for a day (the projector prunes it). On the
    // projector's hot path, so hash indexes for the two point lookups (by event, by aggregate)
    // and a BRIN for the prune (rows arrive in applied_at order): a batch's rows cost about a
    // third less than with a primary key and a btree on random ids (docs/projections.md). The
    // projector inserts only events not recorded yet; a replay racing a rebalance may record
    // one twice, and the lookup takes the first. A generation made before keeps its layout.
    `DO $$ BEGIN
      IF to_regclass('${s}.applied_change') IS NULL THEN
        CREATE TABLE ${s}.applied_change (
          event_id text NOT NULL, aggregate_type text NOT NULL, aggregate_id text NOT NULL, version int NOT NULL,
          topic text NOT NULL, partition int NOT NULL, kafka_offset bigint NOT NULL, occurred_at timestamptz NOT NULL,
          outcome text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX applied_change_event_id_hash ON ${s}.applied_change USING hash (event_id);
        CREATE INDEX applied_change_aggregate_id_hash ON ${s}.applied_change USING hash (aggregate_id);
      ELSIF to_regclass('${s}.applied_change_aggregate_id_hash') IS NULL THEN
        -- An earlier layout: a primary key, and a btree for "this aggregate's latest".
        DROP INDEX IF EXISTS ${s}.applied_change_aggregate_idx;
        DROP INDEX IF EXISTS ${s}.applied_change_applied_at_idx;
        CREATE INDEX IF NOT EXISTS applied_change_aggregate_id_idx ON ${s}.applied_change (aggregate_id);
      END IF;
    END $$`,
    `CREATE INDEX IF NOT EXISTS applied_change_applied_at_brin ON ${s}.applied_change USING brin (applied_at)`,
    `CREATE TABLE IF NOT EXISTS ${s}.rejected_change (
      topic text NOT NULL, partition int NOT NULL, kafka_offset bigint NOT NULL, key bytea, value bytea,
      reason text NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (topic, partition, kafka_offset))`,
  ]);
}

/** The generation the read side serves; the first projector to start makes generation 1 active. */
export async function activeGeneration(client: Pool | PoolClient): Promise<number | undefined> {
  const r = await client
    .query("SELECT active FROM projection_control.generation WHERE projection = $1", [PROJECTION])
    .catch(() => ({ rows: [] as { active: number }[] }));
  return r.rows[0]?.active;
}

export async function activate(pool: Pool, generation: number): Promise<void> {
  await pool.query(
    `INSERT INTO projection_control.generation (projection, active) VALUES ($1, $2)
     ON CONFLICT (projection) DO UPDATE SET active = EXCLUDED.active, switched_at = now()`,
    [PROJECTION, generation],
  );
}
