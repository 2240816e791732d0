// Retention on a database of its own: months older than the kept ones are dropped whole, with
// their events' identities and the summaries of sagas that ended in them; the kept months, a
// saga still running and the default partition stay; the dashboard's "data since" follows.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { migratedStore } from "../../scripts/test/infra.ts";
import { newTrace, sagaEvent } from "../events/index.ts";
import { dropExpiredMonths } from "./event-retention.ts";
import { storeBatch } from "./store-batch.ts";

const store = migratedStore("retention", 2);

/** A saga started (and, if `ended`, completed) at `at`. */
async function sagaAt(sagaId: string, at: Date, ended: boolean) {
  const o = { source: "/retention-test", trace: newTrace(), time: at };
  const base = { sagaId, sagaType: "transfer", mode: "orchestrated" as const };
  const events = [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "debit", service: "a" }] }, o),
    ...(ended ? [sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 5 }, o)] : []),
  ];
  await storeBatch(store.pool(), {
    events: events.map((event, i) => ({
      event,
      position: { topic: "t", partition: 0, offset: Date.now() * 10 + i },
    })),
  });
}

const monthsAgo = (n: number) => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 10));
};

describe("retention", () => {
  it("drops months past the kept ones, with their identities and ended sagas; keeps the rest", async () => {
    await store.pool().query("SELECT sagascope_ensure_event_partitions($1, 5)", [monthsAgo(5)]);
    await sagaAt("old-ended", monthsAgo(5), true);
    await sagaAt("old-running", monthsAgo(4), false);
    await sagaAt("recent", monthsAgo(1), true);
    const count = async (sql: string) => (await store.pool().query<{ n: number }>(sql)).rows[0]?.n;

    // Three months kept: this one and the two before it.
    const dropped = await dropExpiredMonths(store.pool(), 3);
    const month = (n: number) => monthsAgo(n).toISOString().slice(0, 7).replace("-", "_");
    expect(dropped).toEqual([`saga_event_${month(5)}`, `saga_event_${month(4)}`, `saga_event_${month(3)}`]);
    expect(await count("SELECT count(*)::int AS n FROM saga_event WHERE saga_id LIKE 'old-%'")).toBe(0);
    expect(await count("SELECT count(*)::int AS n FROM saga_event WHERE saga_id = 'recent'")).toBe(2);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM saga_event_identity WHERE time < '${monthsAgo(2).toISOString()}'`,
      ),
    ).toBe(0);
    // The ended old saga's summary goes; one still running stays (it is still somebody's problem).
    const { rows } = await store
      .pool()
      .query<{ saga_id: string }>("SELECT saga_id FROM saga_summary ORDER BY 1");
    expect(rows.map((r) => r.saga_id)).toEqual(["old-running", "recent"]);
    const since = await store.pool().query<{ since: Date }>("SELECT sagascope_event_data_since() AS since");
    expect(since.rows[0]?.since.toISOString().slice(0, 7)).toBe(monthsAgo(2).toISOString().slice(0, 7));
    // Nothing more to drop; a nonsense setting is refused.
    expect(await dropExpiredMonths(store.pool(), 3)).toEqual([]);
    await expect(dropExpiredMonths(store.pool(), 0)).rejects.toThrow("keep_months must be 1 or more");
  });

  it("runs as the runtime role, which may not drop a partition itself", async () => {
    const login = `retention_rt_${Date.now().toString(36)}`;
    await store.pool().query(`CREATE ROLE ${login} LOGIN IN ROLE sagascope_runtime`);
    const url = new URL(store.url());
    url.username = login;
    const runtime = new pg.Client({ connectionString: url.toString() });
    await runtime.connect();
    try {
      await store.pool().query("SELECT sagascope_ensure_event_partitions($1, 1)", [monthsAgo(8)]);
      const own = await runtime.query("SELECT sagascope_drop_event_partitions(3) AS dropped");
      expect(own.rows[0].dropped).toEqual([
        `saga_event_${monthsAgo(8).toISOString().slice(0, 7).replace("-", "_")}`,
      ]);
      await expect(runtime.query("DROP TABLE saga_event_default")).rejects.toMatchObject({ code: "42501" });
    } finally {
      await runtime.end();
      await store.pool().query(`DROP ROLE ${login}`);
    }
  });
});
