// Several instances of a service creating their schema at the same moment all succeed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase } from "../../scripts/test/infra.ts";
import { createPool, type Pool } from "./pool.ts";
import { serializedDdl } from "./serialized-ddl.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;

beforeAll(async () => {
  database = await scratchDatabase("ddl_race");
  pool = createPool(database.url, 8);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

describe("serializedDdl", () => {
  it("lets concurrent starters create the same schema and tables without a catalog race", async () => {
    const setUp = () =>
      serializedDdl(pool, "racers", [
        "CREATE SCHEMA IF NOT EXISTS racers",
        "CREATE TABLE IF NOT EXISTS racers.t (id text PRIMARY KEY, n int)",
        "CREATE INDEX IF NOT EXISTS t_n ON racers.t (n)",
      ]);
    const results = await Promise.allSettled(Array.from({ length: 8 }, setUp));
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect((await pool.query("SELECT count(*)::int AS n FROM racers.t")).rows[0].n).toBe(0);
  });
});
