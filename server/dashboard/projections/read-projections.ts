// The projections page's data: the order view of the active generation with its freshness,
// and each partition's latest lag sample.

import type { Pool } from "../../db/pool.ts";
import type { PrismaClient } from "../../db/prisma.ts";
import { activeGeneration, PROJECTION, schemaOf } from "../../projections/read-model.ts";

export interface OrderViewRow {
  orderId: string;
  customerId: string | null;
  sku: string | null;
  quantity: number | null;
  amountCents: number | null;
  orderStatus: string | null;
  paymentStatus: string | null;
  reservationStatus: string | null;
  shipmentId: string | null;
  placedAt: Date | null;
  updatedAt: Date;
}

export interface PartitionLagRow {
  topic: string;
  partition: number;
  offsetLag: number;
  timeLagMs: number | null;
  oldestUnappliedAgeMs: number | null;
  newestAppliedAt: Date | null;
  sampledAt: Date;
}

export interface ProjectionOverview {
  generation: number | null;
  /** When the newest change the read model holds occurred; the view is as fresh as that. */
  newestAppliedAt: Date | null;
  lag: PartitionLagRow[];
  orders: OrderViewRow[];
}

export async function readProjection(
  pool: Pool,
  prisma: PrismaClient,
  limit = 50,
): Promise<ProjectionOverview> {
  const generation = (await activeGeneration(pool)) ?? null;
  const latest = await prisma.projectionLagSample.findFirst({
    where: { projection: PROJECTION, ...(generation ? { generation } : {}) },
    orderBy: { time: "desc" },
    select: { checkpointId: true },
  });
  const samples = latest
    ? await prisma.projectionLagSample.findMany({
        where: { checkpointId: latest.checkpointId },
        orderBy: [{ topic: "asc" }, { partition: "asc" }],
      })
    : [];
  if (!generation) return { generation, newestAppliedAt: null, lag: [], orders: [] };
  const s = schemaOf(generation);
  const [orders, newest] = await Promise.all([
    pool.query(
      `SELECT order_id, customer_id, sku, quantity, amount_cents, order_status, payment_status, reservation_status,
              shipment_id, placed_at, updated_at
       FROM ${s}.order_view ORDER BY placed_at DESC NULLS LAST, order_id LIMIT $1`,
      [limit],
    ),
    pool.query(`SELECT max(newest_occurred_at) AS at FROM ${s}.applied_offset`),
  ]);
  return {
    generation,
    newestAppliedAt: newest.rows[0]?.at ?? null,
    lag: samples.map((x) => ({
      topic: x.topic,
      partition: x.partition,
      offsetLag: Number(x.offsetLag),
      timeLagMs: x.timeLagMs,
      oldestUnappliedAgeMs: x.oldestUnappliedAgeMs,
      newestAppliedAt: x.newestAppliedAt,
      sampledAt: x.time,
    })),
    orders: orders.rows.map((r) => ({
      orderId: r.order_id,
      customerId: r.customer_id,
      sku: r.sku,
      quantity: r.quantity,
      amountCents: r.amount_cents === null ? null : Number(r.amount_cents),
      orderStatus: r.order_status,
      paymentStatus: r.payment_status,
      reservationStatus: r.reservation_status,
      shipmentId: r.shipment_id,
      placedAt: r.placed_at,
      updatedAt: r.updated_at,
    })),
  };
}
