// How one change lands in the read model: an upsert of the view row that only takes effect
// when the change's version is newer than what the row holds for that source. Replayed or
// late changes therefore change nothing, and one aggregate's changes apply in order.
import type { PoolClient } from "../db/pool.ts";
import type { Change } from "./change-events.ts";

type Applier = (client: PoolClient, schema: string, change: Change) => Promise<boolean>;

const str = (v: unknown) => (v === undefined || v === null ? null : String(v));

/** One column set per source of the order view: each source only touches its own columns. */
function orderSource(
  prefix: "order" | "payment" | "reservation" | "shipment",
  columns: Record<string, (s: Change["state"]) => unknown>,
): Applier {
  const names = Object.keys(columns);
  const version = `${prefix}_version`;
  return async (client, schema, change) => {
    // A deleted source leaves its columns empty; the version still moves on.
    const values = names.map((n) => (change.op === "deleted" ? null : (columns[n]?.(change.state) ?? null)));
    const r = await client.query(
      `INSERT INTO ${schema}.order_view (order_id, ${names.join(", ")}, ${version}, applied_changes)
       VALUES ($1, ${names.map((_, i) => `$${i + 3}`).join(", ")}, $2, 1)
       ON CONFLICT (order_id) DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(", ")},
         ${version} = EXCLUDED.${version}, applied_changes = order_view.applied_changes + 1, updated_at = now()
       WHERE order_view.${version} < EXCLUDED.${version}`,
      [change.aggregateId, change.version, ...values],
    );
    return r.rowCount === 1;
  };
}

const APPLIERS: Record<string, Applier> = {
  order: orderSource("order", {
    customer_id: (s) => str(s.customer_id),
    sku: (s) => str(s.sku),
    quantity: (s) => (s.quantity === undefined ? null : Number(s.quantity)),
    amount_cents: (s) => (s.amount_cents === undefined ? null : Number(s.amount_cents)),
    order_status: (s) => str(s.status),
    placed_at: (s) => str(s.placed_at),
  }),
  payment: orderSource("payment", { payment_status: (s) => str(s.status) }),
  reservation: orderSource("reservation", { reservation_status: (s) => str(s.status) }),
  shipment: orderSource("shipment", { shipment_id: (s) => str(s.shipment_id) }),
  account: async (client, schema, change) => {
    const s = change.state;
    if (change.op === "deleted") {
      const r = await client.query(
        `DELETE FROM ${schema}.account_view WHERE account_id = $1 AND version < $2`,
        [change.aggregateId, change.version],
      );
      return r.rowCount === 1;
    }
    const r = await client.query(
      `INSERT INTO ${schema}.account_view (account_id, bank, account, balance, closed, version, applied_changes, last_change_at)
       VALUES ($1, $2, $3, $4, $5, $6, 1, $7)
       ON CONFLICT (account_id) DO UPDATE SET balance = EXCLUDED.balance, closed = EXCLUDED.closed,
         version = EXCLUDED.version, applied_changes = account_view.applied_changes + 1,
         last_change_at = EXCLUDED.last_change_at, updated_at = now()
       WHERE account_view.version < EXCLUDED.version`,
      [
        change.aggregateId,
        str(s.bank),
        str(s.account),
        Number(s.balance),
        Boolean(s.closed),
        change.version,
        change.occurredAt,
      ],
    );
    return r.rowCount === 1;
  },
};

/** Applies a change; false when it was old news (or of an aggregate type this model does not hold). */
export async function applyChange(client: PoolClient, schema: string, change: Change): Promise<boolean> {
  const apply = APPLIERS[change.aggregateType];
  return apply ? apply(client, schema, change) : false;
}
