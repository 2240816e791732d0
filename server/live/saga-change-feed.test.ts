// The live feed against a real Postgres: it survives losing its connection, tells its
// listeners to refresh everything, and hears new changes once it is back.
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { SAGA_CHANGES_CHANNEL } from "../ingest/store-batch.ts";
import { createLogger } from "../log.ts";
import { createSagaChangeFeed } from "./saga-change-feed.ts";

const applicationName = uniqueName("feed-test");
const feed = createSagaChangeFeed(testInfra().databaseUrl, createLogger("feed-test", "error"), {
  flushMs: 10,
  applicationName,
});
const admin = new pg.Client({ connectionString: testInfra().databaseUrl });

afterAll(async () => {
  await feed.close();
  await admin.end();
});

/** Other test files notify on the same channel: wait for the change that names `id`. */
async function nextNaming(changes: AsyncGenerator<{ sagaIds: string[] | "*" }>, id: string) {
  for (;;) {
    const { value } = await changes.next();
    if (value && (value.sagaIds === "*" ? id === "*" : value.sagaIds.includes(id))) return value;
  }
}

async function listeningBackends(): Promise<number[]> {
  const r = await admin.query(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
    [applicationName],
  );
  return r.rows.map((row) => row.pid);
}

describe("saga change feed", () => {
  it("reconnects after its connection is killed, asks for a full refresh, then hears changes again", async () => {
    await admin.connect();
    const controller = new AbortController();
    const changes = feed.stream(controller.signal);
    const a = uniqueName("a");
    const b = uniqueName("b");
    const first = nextNaming(changes, a);
    await vi.waitFor(async () => expect(await listeningBackends()).toHaveLength(1));
    await admin.query("SELECT pg_notify($1, $2)", [SAGA_CHANGES_CHANNEL, JSON.stringify([a])]);
    expect((await first).sagaIds).toContain(a);

    const [pid] = await listeningBackends();
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    expect(await nextNaming(changes, "*")).toEqual({ sagaIds: "*" });

    await vi.waitFor(
      async () => {
        const pids = await listeningBackends();
        expect(pids).toHaveLength(1);
        expect(pids[0]).not.toBe(pid);
      },
      { timeout: 10_000 },
    );
    const again = nextNaming(changes, b);
    await admin.query("SELECT pg_notify($1, $2)", [SAGA_CHANGES_CHANNEL, JSON.stringify([b])]);
    expect((await again).sagaIds).toContain(b);
    controller.abort();
  });
});
