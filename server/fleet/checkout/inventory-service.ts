// Inventory: reserves stock once the order is paid; releases it when shipping failed.
// Every stock movement is a ledger row.
import type { Reaction } from "../../sagas/choreography/participant.ts";
import { StepFailure } from "../../sagas/step-failure.ts";
import { asChangeRow, type ChangeSink } from "./changes.ts";
import { type CheckoutEvents, WORLD } from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";
import { moveOrderRecord, type OrderRecord } from "./record-movement.ts";

export const INVENTORY_SCHEMA = "checkout_inventory";
const t = (table: string) => `${INVENTORY_SCHEMA}.${table}`;
const RESERVATION: OrderRecord = {
  table: t("reservation"),
  aggregateType: "reservation",
  ledger: t("ledger"),
};

export const inventoryTables = [
  `CREATE TABLE IF NOT EXISTS ${t("stock")} (sku text PRIMARY KEY, available int NOT NULL CHECK (available >= 0))`,
  `CREATE TABLE IF NOT EXISTS ${t("reservation")} (order_id text PRIMARY KEY, sku text NOT NULL, quantity int NOT NULL,
     status text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS ${t("ledger")} (id bigserial PRIMARY KEY, order_id text NOT NULL, sku text NOT NULL,
     kind text NOT NULL, quantity int NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  `INSERT INTO ${t("stock")} SELECT unnest(ARRAY[${WORLD.skus.map((c) => `'${c}'`).join(", ")}]), ${WORLD.openingStock} ON CONFLICT DO NOTHING`,
  `INSERT INTO ${t("stock")} VALUES ('${WORLD.soldOutSku}', 0) ON CONFLICT DO NOTHING`,
  `ALTER TABLE ${t("reservation")} ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1`,
];

type R<T extends keyof CheckoutEvents & string> = Reaction<CheckoutEvents, T>;

export function inventoryReactions(
  guard: Guard,
  changes: ChangeSink,
): { [T in keyof CheckoutEvents & string]?: R<T> } {
  return {
    // The order's sku and quantity come with the order; inventory keeps what it needs of it.
    "shop.order-placed": {
      handle: async (ctx) => {
        const r = await ctx.tx.query(
          `INSERT INTO ${t("reservation")} (order_id, sku, quantity, status) VALUES ($1, $2, $3, 'expected')
           ON CONFLICT DO NOTHING RETURNING *`,
          [ctx.sagaId, ctx.event.data.sku, ctx.event.data.quantity],
        );
        if (r.rows[0]) changes(ctx, "reservation", "created", asChangeRow(r.rows[0], "order_id"));
      },
    },
    "shop.payment-captured": {
      step: "reserve-stock",
      handle: (ctx) =>
        guard.run(async () => {
          const { tx, sagaId, publish } = ctx;
          const wanted = await tx.query(
            `SELECT sku, quantity, status FROM ${t("reservation")} WHERE order_id = $1 FOR UPDATE`,
            [sagaId],
          );
          const order = wanted.rows[0];
          if (!order)
            throw new Error(`payment captured for order ${sagaId}, which inventory never saw placed`);
          // Handled again (an operator's retry-from): reserved stock is not taken twice.
          if (order.status === "reserved") {
            publish("shop.stock-reserved", { orderId: sagaId, sku: order.sku, quantity: order.quantity });
            return;
          }
          if (order.status !== "expected")
            throw StepFailure.business(`the reservation was ${order.status} already`, "SETTLED");
          const stock = await tx.query(`SELECT available FROM ${t("stock")} WHERE sku = $1 FOR UPDATE`, [
            order.sku,
          ]);
          const available = Number(stock.rows[0]?.available ?? 0);
          if (available < order.quantity)
            throw StepFailure.business(
              `out of stock: ${order.sku} has ${available}, ${order.quantity} wanted`,
              "SOLD_OUT",
            );
          await tx.query(`UPDATE ${t("stock")} SET available = available - $2 WHERE sku = $1`, [
            order.sku,
            order.quantity,
          ]);
          await moveOrderRecord(ctx, changes, RESERVATION, "reserved", {
            sku: order.sku,
            kind: "reserve",
            quantity: order.quantity,
          });
          publish("shop.stock-reserved", { orderId: sagaId, sku: order.sku, quantity: order.quantity });
        }),
      onFailure: async ({ sagaId, publish }, failure) =>
        publish("shop.stock-failed", {
          orderId: sagaId,
          reason: failure.message,
          failedStep: "reserve-stock",
        }),
    },
    "shop.shipping-failed": {
      step: "reserve-stock",
      kind: "compensation",
      handle: (ctx) =>
        guard.run(async () => {
          const { tx, sagaId, event, publish } = ctx;
          const r = await tx.query(
            `SELECT sku, quantity, status FROM ${t("reservation")} WHERE order_id = $1 FOR UPDATE`,
            [sagaId],
          );
          const row = r.rows[0];
          if (row?.status === "reserved") {
            await tx.query(`UPDATE ${t("stock")} SET available = available + $2 WHERE sku = $1`, [
              row.sku,
              row.quantity,
            ]);
            await moveOrderRecord(ctx, changes, RESERVATION, "released", {
              sku: row.sku,
              kind: "release",
              quantity: row.quantity,
            });
          }
          publish("shop.stock-released", {
            orderId: sagaId,
            reason: event.data.reason,
            failedStep: event.data.failedStep,
          });
        }),
    },
  };
}
