// Each change lands once and in version order, whatever order or how often it is handed over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { applyChange } from "./apply-change.ts";
import type { Change } from "./change-events.ts";
import { createReadModel, schemaOf } from "./read-model.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
const schema = schemaOf(1);

beforeAll(async () => {
  db = await scratchDatabase("apply_change");
  pool = createPool(db.url);
  await createReadModel(pool, 1);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const change = (c: Partial<Change> & Pick<Change, "aggregateType" | "aggregateId" | "version">): Change => ({
  op: c.version === 1 ? "created" : "updated",
  occurredAt: "2026-11-25T10:00:00.000Z",
  state: {},
  ...c,
});
const apply = (c: Change) => withTransaction(pool, (tx) => applyChange(tx, schema, c));
const order = async (id: string) =>
  (await pool.query(`SELECT * FROM ${schema}.order_view WHERE order_id = $1`, [id])).rows[0];
const account = async (id: string) =>
  (await pool.query(`SELECT * FROM ${schema}.account_view WHERE account_id = $1`, [id])).rows[0];

describe("applyChange", () => {
  it("joins an order's sources in whatever order they arrive, and ignores old news", async () => {
    expect(
      await apply(
        change({ aggregateType: "payment", aggregateId: "o-1", version: 1, state: { status: "captured" } }),
      ),
    ).toBe(true);
    expect(
      await apply(
        change({
          aggregateType: "order",
          aggregateId: "o-1",
          version: 2,
          state: { status: "confirmed", sku: "S" },
        }),
      ),
    ).toBe(true);
    expect(
      await apply(
        change({
          aggregateType: "order",
          aggregateId: "o-1",
          version: 1,
          state: { status: "placed", sku: "S" },
        }),
      ),
    ).toBe(false);
    expect(
      await apply(
        change({ aggregateType: "payment", aggregateId: "o-1", version: 1, state: { status: "captured" } }),
      ),
    ).toBe(false);
    expect(await order("o-1")).toMatchObject({
      order_status: "confirmed",
      payment_status: "captured",
      order_version: 2,
      payment_version: 1,
      applied_changes: 2,
    });
  });

  it("a deleted source empties its columns; a deleted account leaves the view", async () => {
    await apply(
      change({ aggregateType: "shipment", aggregateId: "o-2", version: 1, state: { shipment_id: "SHP-2" } }),
    );
    await apply(change({ aggregateType: "shipment", aggregateId: "o-2", version: 2, op: "deleted" }));
    expect(await order("o-2")).toMatchObject({ shipment_id: null, shipment_version: 2 });

    await apply(
      change({
        aggregateType: "account",
        aggregateId: "bank_a/A-1",
        version: 1,
        state: { bank: "bank_a", account: "A-1", balance: 10, closed: false },
      }),
    );
    await apply(
      change({
        aggregateType: "account",
        aggregateId: "bank_a/A-1",
        version: 2,
        state: { bank: "bank_a", account: "A-1", balance: 7, closed: false },
      }),
    );
    expect(await account("bank_a/A-1")).toMatchObject({ balance: 7, version: 2, applied_changes: 2 });
    expect(
      await apply(change({ aggregateType: "account", aggregateId: "bank_a/A-1", version: 2, op: "deleted" })),
    ).toBe(false);
    expect(
      await apply(change({ aggregateType: "account", aggregateId: "bank_a/A-1", version: 3, op: "deleted" })),
    ).toBe(true);
    expect(await account("bank_a/A-1")).toBeUndefined();
  });
});
