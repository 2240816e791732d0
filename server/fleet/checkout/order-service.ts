// Order: places orders (starting the saga), confirms them when the shipment is scheduled,
// cancels them when the payment failed or was refunded. It is the saga's owner of record.
import { randomUUID } from "node:crypto";
import type { Participant, Reaction } from "../../sagas/choreography/participant.ts";
import type { CheckoutEvents } from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";

export const ORDER_SCHEMA = "checkout_order";
const t = (table: string) => `${ORDER_SCHEMA}.${table}`;

export const orderTables = [
  `CREATE TABLE IF NOT EXISTS ${t("customer_order")} (order_id text PRIMARY KEY, customer_id text NOT NULL,
     sku text NOT NULL, quantity int NOT NULL, amount_cents bigint NOT NULL, status text NOT NULL,
     reason text, placed_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz)`,
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

function cancel(guard: Guard): R<"shop.payment-failed" | "shop.payment-refunded"> {
  return {
    step: "place-order",
    kind: "compensation",
    handle: ({ tx, sagaId, event, saga }) =>
      guard.run(async () => {
        const r = await tx.query(
          `UPDATE ${t("customer_order")} SET status = 'cancelled', reason = $2, ended_at = now()
           WHERE order_id = $1 AND status = 'placed'`,
          [sagaId, event.data.reason],
        );
        if (r.rowCount === 1) {
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

export function orderReactions(guard: Guard): { [T in keyof CheckoutEvents & string]?: R<T> } {
  return {
    "shop.shipment-scheduled": {
      handle: ({ tx, sagaId, saga }) =>
        guard.run(async () => {
          const r = await tx.query(
            `UPDATE ${t("customer_order")} SET status = 'confirmed', ended_at = now() WHERE order_id = $1 AND status = 'placed'`,
            [sagaId],
          );
          if (r.rowCount === 1) saga.completed(await ageMs(tx, sagaId));
        }),
    },
    "shop.payment-failed": cancel(guard),
    "shop.payment-refunded": cancel(guard),
  };
}

/** Places one order: the saga's first step, in the order service's own transaction. */
export async function placeOrder(order: Participant<CheckoutEvents>, input: NewOrder): Promise<string> {
  const orderId = `order-${randomUUID()}`;
  await order.begin(
    { sagaId: orderId, step: "place-order", businessKey: orderId.slice(0, 14), input: { ...input } },
    async ({ tx, publish }) => {
      await tx.query(
        `INSERT INTO ${t("customer_order")} (order_id, customer_id, sku, quantity, amount_cents, status)
         VALUES ($1, $2, $3, $4, $5, 'placed')`,
        [orderId, input.customerId, input.sku, input.quantity, input.amountCents],
      );
      publish("shop.order-placed", { orderId, ...input });
    },
  );
  return orderId;
}
