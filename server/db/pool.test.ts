// A pool with a statement timeout: Postgres cancels a statement that runs longer, and the
// connection serves the next query.
import { afterAll, describe, expect, it } from "vitest";
import { testInfra } from "../../scripts/test/infra.ts";
import { createPool } from "./pool.ts";

const pool = createPool(testInfra().databaseUrl, 1, { statementTimeoutMs: 300 });

afterAll(async () => {
  await pool.end();
});

describe("a pool with a statement timeout", () => {
  it("cancels a statement that runs longer and goes on with the next", async () => {
    await expect(pool.query("SELECT pg_sleep(5)")).rejects.toMatchObject({ code: "57014" });
    const { rows } = await pool.query<{ timeout: string }>(
      "SELECT current_setting('statement_timeout') AS timeout",
    );
    expect(rows[0]?.timeout).toBe("300ms");
  });
});
