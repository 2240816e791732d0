// A bank's ledger on a real database: idempotent operations and reversals that hold
// whatever order they arrive in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../../scripts/test/infra.ts";
import { stepFailureOf } from "../../../scripts/test/step-failure-of.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { type BankStore, createBankStore } from "./bank-store.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
let bank: BankStore;

beforeAll(async () => {
  database = await scratchDatabase("bank");
  pool = createPool(database.url);
  bank = createBankStore(pool, "bank_x");
  await bank.init([
    { id: "X-1", balance: 100 },
    { id: "X-2", balance: 0, closed: true },
  ]);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

const balance = async (id: string) =>
  Number((await pool.query("SELECT balance FROM bank_x.accounts WHERE id = $1", [id])).rows[0].balance);

describe("bank store", () => {
  it("applies a retried debit once and reverses it once", async () => {
    await bank.debit("op-1", "X-1", 30);
    await bank.debit("op-1", "X-1", 30);
    expect(await balance("X-1")).toBe(70);
    await bank.reverse("op-1");
    await bank.reverse("op-1");
    expect(await balance("X-1")).toBe(100);
  });

  it("a reversal that arrives before its operation cancels it for good", async () => {
    await bank.reverse("op-2");
    const refused = await stepFailureOf(bank.debit("op-2", "X-1", 10));
    expect(refused).toMatchObject({ category: "business", code: "CANCELLED" });
    expect(await balance("X-1")).toBe(100);
  });

  it("refuses business failures with their codes and changes nothing", async () => {
    expect(await stepFailureOf(bank.debit("op-3", "X-1", 1000))).toMatchObject({
      code: "INSUFFICIENT_FUNDS",
    });
    expect(await stepFailureOf(bank.credit("op-4", "X-2", 5))).toMatchObject({ code: "ACCOUNT_CLOSED" });
    expect(await stepFailureOf(bank.credit("op-5", "nope", 5))).toMatchObject({ code: "NOT_FOUND" });
    expect(await bank.totalBalance()).toBe(100);
  });

  it("serialises concurrent copies of one operation", async () => {
    await Promise.all(Array.from({ length: 8 }, () => bank.credit("op-6", "X-1", 7)));
    expect(await balance("X-1")).toBe(107);
  });
});
