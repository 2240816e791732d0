// The checkout's invariants, checked across the four services' schemas: an auditor's view
// that no service has (each owns only its own tables). Used by the chaos test and the demo.
import type { Pool } from "../../db/pool.ts";
import { WORLD } from "./checkout-saga.ts";

export interface CheckoutAudit {
  orders: { placed: number; confirmed: number; cancelled: number };
  violations: string[];
}

export async function auditCheckout(pool: Pool): Promise<CheckoutAudit> {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  const violations: string[] = [];
  const counts = Object.fromEntries(
    (await q("SELECT status, count(*)::int AS n FROM checkout_order.customer_order GROUP BY status")).map(
      (r) => [r.status, r.n],
    ),
  );
  const report = (what: string, rows: { order_id: string }[]) => {
    if (rows.length > 0) violations.push(`${rows.length} ${what}, e.g. ${rows[0]?.order_id}`);
  };
  report(
    "confirmed orders not paid, not reserved or not shipped",
    await q(`SELECT o.order_id FROM checkout_order.customer_order o
      LEFT JOIN checkout_payment.payment p USING (order_id)
      LEFT JOIN checkout_inventory.reservation r USING (order_id)
      LEFT JOIN checkout_shipping.shipment s USING (order_id)
      WHERE o.status = 'confirmed' AND (p.status IS DISTINCT FROM 'captured' OR r.status IS DISTINCT FROM 'reserved' OR s.order_id IS NULL)`),
  );
  report(
    "cancelled orders still paid, with stock reserved, or shipped",
    await q(`SELECT o.order_id FROM checkout_order.customer_order o
      LEFT JOIN checkout_payment.payment p USING (order_id)
      LEFT JOIN checkout_inventory.reservation r USING (order_id)
      LEFT JOIN checkout_shipping.shipment s USING (order_id)
      WHERE o.status = 'cancelled' AND (p.status = 'captured' OR r.status = 'reserved' OR s.order_id IS NOT NULL)`),
  );
  report(
    "payments captured or refunded more than once",
    await q(`SELECT order_id FROM checkout_payment.ledger GROUP BY order_id, kind HAVING count(*) > 1`),
  );
  report(
    "stock reserved or released more than once",
    await q(`SELECT order_id FROM checkout_inventory.ledger GROUP BY order_id, kind HAVING count(*) > 1`),
  );
  const opening = (WORLD.customers.length + 1) * WORLD.openingBalanceCents;
  const [money] = await q(`SELECT
      (SELECT coalesce(sum(balance_cents), 0) FROM checkout_payment.wallet)::bigint AS wallets,
      (SELECT coalesce(sum(amount_cents), 0) FROM checkout_payment.payment WHERE status = 'captured')::bigint AS held`);
  if (Number(money?.wallets) + Number(money?.held) !== opening)
    violations.push(`money: wallets ${money?.wallets} + captured ${money?.held} ≠ opening ${opening}`);
  const [stock] = await q(`SELECT
      (SELECT coalesce(sum(available), 0) FROM checkout_inventory.stock)::bigint AS available,
      (SELECT coalesce(sum(quantity), 0) FROM checkout_inventory.reservation WHERE status = 'reserved')::bigint AS reserved`);
  const openingStock = WORLD.skus.length * WORLD.openingStock;
  if (Number(stock?.available) + Number(stock?.reserved) !== openingStock)
    violations.push(
      `stock: available ${stock?.available} + reserved ${stock?.reserved} ≠ opening ${openingStock}`,
    );
  return {
    orders: {
      placed: counts.placed ?? 0,
      confirmed: counts.confirmed ?? 0,
      cancelled: counts.cancelled ?? 0,
    },
    violations,
  };
}
