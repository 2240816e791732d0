// The marketplace checkout, choreographed over Kafka: order → payment → inventory →
// shipping, each service reacting to the previous one's event on one topic keyed by order
// id (so one order's events stay in order). A failure event travels back and the earlier
// services compensate: release stock, refund, cancel the order.
import { z } from "zod";
import { defineChoreography } from "../../sagas/choreography/choreography.ts";

export const checkoutSaga = defineChoreography({
  type: "marketplace-checkout",
  steps: [
    { name: "place-order", service: "order", timeoutMs: 5000 },
    { name: "charge-payment", service: "payment", timeoutMs: 5000 },
    { name: "reserve-stock", service: "inventory", timeoutMs: 5000 },
    { name: "schedule-shipment", service: "shipping", timeoutMs: 5000 },
  ],
});

export const CHECKOUT_SERVICES = ["order", "payment", "inventory", "shipping"] as const;
export type CheckoutService = (typeof CHECKOUT_SERVICES)[number];

export const checkoutTopic = (prefix: string) => `${prefix}sagascope.fleet.checkout`;

const orderId = z.string().min(1).max(200);
const failure = { orderId, reason: z.string().max(2000), failedStep: z.string().max(200) };

export const checkoutEvents = {
  "shop.order-placed": z.object({
    orderId,
    customerId: z.string().min(1).max(100),
    sku: z.string().min(1).max(100),
    quantity: z.number().int().positive().max(1000),
    amountCents: z.number().int().positive().max(100_000_000),
  }),
  "shop.payment-captured": z.object({ orderId, amountCents: z.number().int().positive() }),
  "shop.payment-failed": z.object(failure),
  "shop.stock-reserved": z.object({ orderId, sku: z.string(), quantity: z.number().int().positive() }),
  "shop.stock-failed": z.object(failure),
  "shop.shipment-scheduled": z.object({ orderId, shipmentId: z.string() }),
  "shop.shipping-failed": z.object(failure),
  "shop.stock-released": z.object(failure),
  "shop.payment-refunded": z.object(failure),
};
export type CheckoutEvents = typeof checkoutEvents;

/** The demo world: most customers can pay and be shipped to; a few cannot, by design. */
export const WORLD = {
  customers: Array.from({ length: 20 }, (_, i) => `C-${String(i + 1).padStart(3, "0")}`),
  openingBalanceCents: 10_000_000,
  /** Has no money: payment is declined (a business failure before anything to undo but the order). */
  brokeCustomer: "C-BROKE",
  /** Lives where nobody ships: shipping refuses after payment and stock (the longest compensation). */
  remoteCustomer: "C-REMOTE",
  skus: ["SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5"],
  openingStock: 1_000_000,
  /** Never in stock: inventory refuses after payment. */
  soldOutSku: "SKU-SOLD-OUT",
};

/** A random order; `failureRate` is the share that will fail by design (declined, sold out, unserviceable). */
export function randomOrder(failureRate: number, random = Math.random) {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  const failing = random() < failureRate;
  const kind = failing ? pick(["declined", "sold-out", "unserviceable"] as const) : "ok";
  return {
    customerId:
      kind === "declined"
        ? WORLD.brokeCustomer
        : kind === "unserviceable"
          ? WORLD.remoteCustomer
          : pick(WORLD.customers),
    sku: kind === "sold-out" ? WORLD.soldOutSku : pick(WORLD.skus),
    quantity: 1 + Math.floor(random() * 3),
    amountCents: 100 + Math.floor(random() * 4900),
  };
}
