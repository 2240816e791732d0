// The overview's breaker figures count the pairs other libraries report (known only from
// their events) beside Sagascope's own: an open opossum or Resilience4j pair is an open
// breaker on the overview too. A scratch database and an empty Redis prefix of its own.
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../../scripts/test/infra.ts";
import { createBreakerStore } from "../../breakers/index.ts";
import { migrate } from "../../db/migrate.ts";
import { createPool, type Pool } from "../../db/pool.ts";
import { breakerEvent } from "../../events/index.ts";
import { insertBreakerEvents } from "../../ingest/store-breaker-events.ts";
import { readOverview } from "./read-overview.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let pool: Pool;
const redis = new Redis(testInfra().redisUrl);

beforeAll(async () => {
  db = await scratchDatabase("overview");
  await migrate(db.url, () => {});
  pool = createPool(db.url, 2);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
  redis.disconnect();
});

const changed = (callee: string, from: "closed" | "open", to: "closed" | "open", offset: number) => ({
  event: breakerEvent(
    "io.sagascope.breaker.state_changed",
    {
      pair: `payments→${callee}`,
      caller: "payments",
      callee,
      instance: "payments-1",
      from,
      to,
      forced: null,
      reason: "test",
      calls: 6,
      failures: 4,
      failureRateThreshold: 0.5,
      minimumCalls: 4,
    },
    // One second apart, so the newest change of each pair is its state.
    { source: "/opossum/payments", time: new Date(Date.now() - 10_000 + offset * 1000) },
  ),
  position: { topic: "t", partition: 0, offset },
});

it("counts reported pairs: one open, one closed again", async () => {
  const client = await pool.connect();
  try {
    await insertBreakerEvents(client, [
      changed("ledger", "closed", "open", 1),
      changed("fx", "closed", "open", 2),
      changed("fx", "open", "closed", 3),
    ]);
  } finally {
    client.release();
  }
  const overview = await readOverview(pool, createBreakerStore(redis, `${uniqueName("overview-bk")}:`), 0);
  expect(overview.breakers).toEqual({ total: 2, open: 1 });
});
