// Payment: charges the customer's wallet when an order is placed; refunds when stock or
// shipping failed later. Every money movement is a ledger row, so a double refund would show.
import type { Reaction } from "../../sagas/choreography/participant.ts";
import { StepFailure } from "../../sagas/step-failure.ts";
import { asChangeRow, type ChangeSink } from "./changes.ts";
import { type CheckoutEvents, WORLD } from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";
import { moveOrderRecord, type OrderRecord } from "./record-movement.ts";

export const PAYMENT_SCHEMA = "checkout_payment";
const t = (table: string) => `${PAYMENT_SCHEMA}.${table}`;
const PAYMENT: OrderRecord = { table: t("payment"), aggregateType: "payment", ledger: t("ledger") };

export const paymentTables = [
  `CREATE TABLE IF NOT EXISTS ${t("wallet")} (customer_id text PRIMARY KEY, balance_cents bigint NOT NULL CHECK (balance_cents >= 0))`,
  `CREATE TABLE IF NOT EXISTS ${t("payment")} (order_id text PRIMARY KEY, customer_id text NOT NULL,
     amount_cents bigint NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${t("ledger")} (id bigserial PRIMARY KEY, order_id text NOT NULL, customer_id text NOT NULL,
     kind text NOT NULL, amount_cents bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  `INSERT INTO ${t("wallet")} SELECT unnest(ARRAY[${WORLD.customers.map((c) => `'${c}'`).join(", ")}]), ${WORLD.openingBalanceCents} ON CONFLICT DO NOTHING`,
  `INSERT INTO ${t("wallet")} VALUES ('${WORLD.brokeCustomer}', 0), ('${WORLD.remoteCustomer}', ${WORLD.openingBalanceCents}) ON CONFLICT DO NOTHING`,
  `ALTER TABLE ${t("payment")} ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1`,
];

type R<T extends keyof CheckoutEvents & string> = Reaction<CheckoutEvents, T>;

function refund(guard: Guard, changes: ChangeSink): R<"shop.stock-failed" | "shop.stock-released"> {
  return {
    step: "charge-payment",
    kind: "compensation",
    handle: (ctx) =>
      guard.run(async () => {
        const { tx, sagaId, event, publish } = ctx;
        const payment = await tx.query(
          `SELECT customer_id, amount_cents, status FROM ${t("payment")} WHERE order_id = $1 FOR UPDATE`,
          [sagaId],
        );
        const row = payment.rows[0];
        // Nothing captured, or already refunded: nothing to give back, but the chain goes on.
        if (row?.status === "captured") {
          await tx.query(
            `UPDATE ${t("wallet")} SET balance_cents = balance_cents + $2 WHERE customer_id = $1`,
            [row.customer_id, row.amount_cents],
          );
          await moveOrderRecord(ctx, changes, PAYMENT, "refunded", {
            customer_id: row.customer_id,
            kind: "refund",
            amount_cents: row.amount_cents,
          });
        }
        publish("shop.payment-refunded", {
          orderId: sagaId,
          reason: event.data.reason,
          failedStep: event.data.failedStep,
        });
      }),
  };
}

export function paymentReactions(
  guard: Guard,
  changes: ChangeSink,
): { [T in keyof CheckoutEvents & string]?: R<T> } {
  return {
    "shop.order-placed": {
      step: "charge-payment",
      handle: (ctx) =>
        guard.run(async () => {
          const { tx, sagaId, event, publish } = ctx;
          const { customerId, amountCents } = event.data;
          // Handled again (an operator's retry-from): a captured payment is not charged twice.
          const earlier = await tx.query(
            `SELECT amount_cents, status FROM ${t("payment")} WHERE order_id = $1 FOR UPDATE`,
            [sagaId],
          );
          if (earlier.rows[0]) {
            const { status, amount_cents } = earlier.rows[0];
            if (status !== "captured")
              throw StepFailure.business(`the payment was ${status} already`, "SETTLED");
            publish("shop.payment-captured", { orderId: sagaId, amountCents: Number(amount_cents) });
            return;
          }
          const wallet = await tx.query(
            `SELECT balance_cents FROM ${t("wallet")} WHERE customer_id = $1 FOR UPDATE`,
            [customerId],
          );
          const balance = Number(wallet.rows[0]?.balance_cents ?? 0);
          if (balance < amountCents)
            throw StepFailure.business(`insufficient funds: ${balance} < ${amountCents} cents`, "DECLINED");
          await tx.query(
            `UPDATE ${t("wallet")} SET balance_cents = balance_cents - $2 WHERE customer_id = $1`,
            [customerId, amountCents],
          );
          const created = await tx.query(
            `INSERT INTO ${t("payment")} (order_id, customer_id, amount_cents, status) VALUES ($1, $2, $3, 'captured')
             RETURNING *`,
            [sagaId, customerId, amountCents],
          );
          changes(ctx, "payment", "created", asChangeRow(created.rows[0], "order_id"));
          await tx.query(
            `INSERT INTO ${t("ledger")} (order_id, customer_id, kind, amount_cents) VALUES ($1, $2, 'capture', $3)`,
            [sagaId, customerId, amountCents],
          );
          publish("shop.payment-captured", { orderId: sagaId, amountCents });
        }),
      onFailure: async ({ sagaId, publish }, failure) =>
        publish("shop.payment-failed", {
          orderId: sagaId,
          reason: failure.message,
          failedStep: "charge-payment",
        }),
    },
    "shop.stock-failed": refund(guard, changes),
    "shop.stock-released": refund(guard, changes),
  };
}
