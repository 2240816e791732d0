// Each change lands once and in version order, whatever order or how often it is handed over.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { applyChange, applyChanges } from "./apply-change.ts";
import type { Change } from "./change-events.ts";
import { createReadModel, schemaOf } from "./read-model.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
const schema = schemaOf(1);

beforeAll(async () => {
  db = await scratchDatabase("apply_change");
  pool = createPool(db.url);
  await createReadModel(pool, 1);
  await createReadModel(pool, 2);
  await createReadModel(pool, 3);
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

/** A small seeded generator, so a failure can be replayed. */
function seeded(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** Changes as a fleet hands them over: each aggregate's versions in order, sometimes twice, sometimes late. */
function handedOver(random: () => number): Change[] {
  const sources = ["order", "payment", "reservation", "shipment", "account"] as const;
  const out: Change[] = [];
  for (let n = 0; n < 400; n += 1) {
    const aggregateType = sources[Math.floor(random() * sources.length)] as (typeof sources)[number];
    const aggregateId =
      aggregateType === "account" ? `bank_a/A-${Math.floor(random() * 8)}` : `o-${Math.floor(random() * 12)}`;
    const held = out.filter((c) => c.aggregateType === aggregateType && c.aggregateId === aggregateId);
    const top = Math.max(0, ...held.map((c) => c.version));
    const roll = random();
    if (held.length > 0 && roll < 0.2) {
      out.push(held[Math.floor(random() * held.length)] as Change); // handed twice, or late
      continue;
    }
    const version = top + 1;
    const op = version > 1 && roll > 0.85 ? "deleted" : version === 1 ? "created" : "updated";
    out.push({
      aggregateType,
      aggregateId,
      version,
      op,
      occurredAt: new Date(Date.UTC(2026, 10, 25, 10, 0, out.length)).toISOString(),
      state: {
        status: `s${version}`,
        sku: `SKU-${version}`,
        quantity: version,
        amount_cents: version * 100,
        shipment_id: `SHP-${version}`,
        bank: "bank_a",
        account: aggregateId.split("/")[1],
        balance: version * 10,
        closed: version % 3 === 0,
      },
    });
  }
  return out;
}

const contents = async (generation: number) => {
  const s = schemaOf(generation);
  const orders = await pool.query(`SELECT * FROM ${s}.order_view ORDER BY order_id`);
  const accounts = await pool.query(`SELECT * FROM ${s}.account_view ORDER BY account_id`);
  const strip = (rows: Record<string, unknown>[]) => rows.map(({ updated_at: _, ...rest }) => rest);
  return { orders: strip(orders.rows), accounts: strip(accounts.rows) };
};

describe("applyChanges", () => {
  it("gives, batch by batch, exactly what applying the changes one at a time gives", async () => {
    for (const seed of [7, 42, 1234]) {
      const random = seeded(seed);
      const changes = handedOver(random);
      await pool.query(
        `TRUNCATE ${schemaOf(2)}.order_view, ${schemaOf(2)}.account_view, ${schemaOf(3)}.order_view, ${schemaOf(3)}.account_view`,
      );
      const oneByOne: boolean[] = [];
      for (const c of changes)
        oneByOne.push(await withTransaction(pool, (tx) => applyChange(tx, schemaOf(2), c)));
      const batched: boolean[] = [];
      for (let i = 0; i < changes.length; ) {
        const size = 1 + Math.floor(random() * 80);
        const batch = changes.slice(i, i + size);
        batched.push(...(await withTransaction(pool, (tx) => applyChanges(tx, schemaOf(3), batch))));
        i += size;
      }
      expect(batched).toEqual(oneByOne);
      const [single, batch] = await Promise.all([contents(2), contents(3)]);
      expect(batch).toEqual(single);
      expect(single.orders.length).toBeGreaterThan(5);
      expect(oneByOne.filter((f) => !f).length).toBeGreaterThan(20);
    }
  });
});
