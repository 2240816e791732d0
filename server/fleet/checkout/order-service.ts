// Order: places orders (starting the saga), confirms them when the shipment is scheduled,
// cancels them when the payment failed or was refunded. It is the saga's owner of record.
import { randomUUID } from "node:crypto";
import type { Participant, Reaction } from "../../sagas/choreography/participant.ts";
import { asChangeRow, type ChangeSink } from "./changes.ts";
import type { CheckoutEvents } from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";

export const ORDER_SCHEMA = "checkout_order";
const t = (table: string) => `${ORDER_SCHEMA}.${table}`;

export const orderTables = [
  `CREATE TABLE IF NOT EXISTS ${t("customer_order")} (order_id text PRIMARY KEY, customer_id text NOT NULL,
     sku text NOT NULL, quantity int NOT NULL, amount_cents bigint NOT NULL, status text NOT NULL,
     reason text, placed_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz)`,
  `ALTER TABLE ${t("customer_order")} ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1`,
];

type R<T extends keyof CheckoutEvents & string> = Reaction<CheckoutEvents, T>;

export interface NewOrder {
  customerId: string;
  sku: string;
  quantity: number;
  amountCents: number;
}

const ageMs = async (
  tx: { query: (q: string, p: unknown[]) => Promise<{ rows: { ms: number }[] }> },
  orderId: string,
) =>
  Number(
    (
      await tx.query(
        `SELECT extract(epoch FROM now() - placed_at) * 1000 AS ms FROM ${t("customer_order")} WHERE order_id = $1`,
        [orderId],
      )
    ).rows[0]?.ms ?? 0,
  );

function cancel(guard: Guard, changes: ChangeSink): R<"shop.payment-failed" | "shop.payment-refunded"> {
  return {
    step: "place-order",
    kind: "compensation",
    handle: (ctx) =>
      guard.run(async () => {
        const { tx, sagaId, event, saga } = ctx;
        const r = await tx.query(
          `UPDATE ${t("customer_order")} SET status = 'cancelled', reason = $2, ended_at = now(), version = version + 1
           WHERE order_id = $1 AND status = 'placed' RETURNING *`,
          [sagaId, event.data.reason],
        );
        if (r.rows[0]) {
          changes(ctx, "order", "updated", asChangeRow(r.rows[0], "order_id"));
          saga.aborted({
            durationMs: await ageMs(tx, sagaId),
            reason: `${event.data.failedStep} failed: ${event.data.reason}`,
            failedStep: event.data.failedStep,
            compensated: true,
          });
        }
      }),
  };
}

export function orderReactions(
  guard: Guard,
  changes: ChangeSink,
): { [T in keyof CheckoutEvents & string]?: R<T> } {
  return {
    "shop.shipment-scheduled": {
      handle: (ctx) =>
        guard.run(async () => {
          const r = await ctx.tx.query(
            `UPDATE ${t("customer_order")} SET status = 'confirmed', ended_at = now(), version = version + 1
             WHERE order_id = $1 AND status = 'placed' RETURNING *`,
            [ctx.sagaId],
          );
          if (r.rows[0]) {
            changes(ctx, "order", "updated", asChangeRow(r.rows[0], "order_id"));
            ctx.saga.completed(await ageMs(ctx.tx, ctx.sagaId));
          }
        }),
    },
    "shop.payment-failed": cancel(guard, changes),
    "shop.payment-refunded": cancel(guard, changes),
  };
}

/** Places one order: the saga's first step, in the order service's own transaction. */
export async function placeOrder(
  order: Participant<CheckoutEvents>,
  input: NewOrder,
  changes: ChangeSink,
): Promise<string> {
  const orderId = `order-${randomUUID()}`;
  await order.begin(
    { sagaId: orderId, step: "place-order", businessKey: orderId.slice(0, 14), input: { ...input } },
    async (ctx) => {
      const r = await ctx.tx.query(
        `INSERT INTO ${t("customer_order")} (order_id, customer_id, sku, quantity, amount_cents, status)
         VALUES ($1, $2, $3, $4, $5, 'placed') RETURNING *`,
        [orderId, input.customerId, input.sku, input.quantity, input.amountCents],
      );
      changes(ctx, "order", "created", asChangeRow(r.rows[0], "order_id"));
      ctx.publish("shop.order-placed", { orderId, ...input });
    },
  );
  return orderId;
}
