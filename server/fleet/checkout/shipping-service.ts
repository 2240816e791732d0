// Shipping: schedules a shipment once stock is reserved, unless nobody ships to the customer.
import type { Reaction } from "../../sagas/choreography/participant.ts";
import { StepFailure } from "../../sagas/step-failure.ts";
import { asChangeRow, type ChangeSink } from "./changes.ts";
import { type CheckoutEvents, WORLD } from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";

export const SHIPPING_SCHEMA = "checkout_shipping";
const t = (table: string) => `${SHIPPING_SCHEMA}.${table}`;

export const shippingTables = [
  `CREATE TABLE IF NOT EXISTS ${t("destination")} (order_id text PRIMARY KEY, customer_id text NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${t("shipment")} (order_id text PRIMARY KEY, shipment_id text NOT NULL,
     scheduled_at timestamptz NOT NULL DEFAULT now())`,
  `ALTER TABLE ${t("shipment")} ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1`,
];

type R<T extends keyof CheckoutEvents & string> = Reaction<CheckoutEvents, T>;

export function shippingReactions(
  guard: Guard,
  changes: ChangeSink,
): { [T in keyof CheckoutEvents & string]?: R<T> } {
  return {
    "shop.order-placed": {
      handle: async ({ tx, sagaId, event }) => {
        await tx.query(`INSERT INTO ${t("destination")} VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
          sagaId,
          event.data.customerId,
        ]);
      },
    },
    "shop.stock-reserved": {
      step: "schedule-shipment",
      handle: (ctx) =>
        guard.run(async () => {
          const { tx, sagaId, publish } = ctx;
          const d = await tx.query(`SELECT customer_id FROM ${t("destination")} WHERE order_id = $1`, [
            sagaId,
          ]);
          const customer = d.rows[0]?.customer_id;
          if (!customer)
            throw new Error(`stock reserved for order ${sagaId}, which shipping never saw placed`);
          if (customer === WORLD.remoteCustomer)
            throw StepFailure.business(`no carrier delivers to ${customer}'s address`, "UNSERVICEABLE");
          const shipmentId = `SHP-${sagaId}`;
          // Handled again (an operator's retry-from): the shipment scheduled before stands.
          const created = await tx.query(
            `INSERT INTO ${t("shipment")} (order_id, shipment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING *`,
            [sagaId, shipmentId],
          );
          if (created.rows[0]) changes(ctx, "shipment", "created", asChangeRow(created.rows[0], "order_id"));
          publish("shop.shipment-scheduled", { orderId: sagaId, shipmentId });
        }),
      onFailure: async ({ sagaId, publish }, failure) =>
        publish("shop.shipping-failed", {
          orderId: sagaId,
          reason: failure.message,
          failedStep: "schedule-shipment",
        }),
    },
  };
}
