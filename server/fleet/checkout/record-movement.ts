// A checkout service's record of an order moving on (stock reserved or released, a payment
// refunded): the row's new status under a new version, its change for the projector, and the
// ledger line, all in the reaction's transaction. The ledger is what makes a movement made
// twice show (checkout-invariants.ts).
import type { PoolClient } from "../../db/pool.ts";
import type { TraceContext } from "../../events/index.ts";
import type { AggregateType } from "../../projections/change-events.ts";
import { asChangeRow, type ChangeSink } from "./changes.ts";

type Ctx = Parameters<ChangeSink>[0] & { tx: PoolClient; sagaId: string; saga: { span: TraceContext } };

export interface OrderRecord {
  /** The service's table of its orders (schema-qualified), keyed by order_id. */
  table: string;
  aggregateType: AggregateType;
  /** The service's ledger (schema-qualified). */
  ledger: string;
}

export async function moveOrderRecord(
  ctx: Ctx,
  changes: ChangeSink,
  record: OrderRecord,
  status: string,
  ledgerLine: Record<string, string | number>,
): Promise<void> {
  const moved = await ctx.tx.query(
    `UPDATE ${record.table} SET status = $2, updated_at = now(), version = version + 1
     WHERE order_id = $1 RETURNING *`,
    [ctx.sagaId, status],
  );
  changes(ctx, record.aggregateType, "updated", asChangeRow(moved.rows[0], "order_id"));
  const columns = Object.keys(ledgerLine);
  await ctx.tx.query(
    `INSERT INTO ${record.ledger} (order_id, ${columns.join(", ")})
     VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(", ")})`,
    [ctx.sagaId, ...Object.values(ledgerLine)],
  );
}
