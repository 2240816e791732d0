// The saga list's plan choices never change its answer: a rare service read through the GIN
// index first gives the same rows, order and cursor pages as the ordinary statement, the
// choice follows the planner's statistics (and a service grown since them is not trusted to
// be rare), and a type and a service that never met answer empty only when nothing matches.
import { beforeAll, describe, expect, it } from "vitest";
import type { SagaFilter } from "../../browser-safe/saga-filter.ts";
import { migratedStore } from "../../scripts/test/infra.ts";
import {
  type ListSagasInput,
  listSagas,
  readSagaPage,
  type SagaPage,
} from "../dashboard/sagas/list-sagas.ts";
import { isRareService } from "./rare-service.ts";
import { cannotMatch } from "./saga-filter-sql.ts";

const store = migratedStore("saga_filter_sql");
const NOW = Date.parse("2026-12-01T12:00:00Z");

/**
 * 30 000 sagas: transfers (orchestrated; bank-a, bank-b) and checkouts (choreographed; order,
 * payment, shipping), three to a start time so that pages break inside ties; 12 transfers took
 * bank-c instead of bank-b, in four groups spread over the week.
 */
async function seed() {
  const pool = store.pool();
  // The statistics stay those of the ANALYZE below, whatever the tests insert later, and are
  // as coarse as a big table's: a sample of 300 rows, which a service of 12 sagas in 30 000 is
  // all but never common in (at least 5 of them would have to be drawn).
  await pool.query("ALTER TABLE saga_summary SET (autovacuum_enabled = false)");
  await pool.query("ALTER TABLE saga_summary ALTER COLUMN services SET STATISTICS 1");
  await pool.query(
    `INSERT INTO saga_summary (saga_id, saga_type, mode, status, trace_id, current_step, failed_step,
                               started_at, last_progress_at, ended_at, event_count, stuck, services)
     SELECT id, kind.saga_type, kind.mode::saga_mode, status::saga_status, md5(id),
            CASE WHEN status = 'running' THEN kind.step END, CASE WHEN status = 'failed' THEN kind.step END,
            at, at, CASE WHEN status IN ('completed', 'failed') THEN at + interval '1 s' END, 6,
            status = 'running' AND n % 2 = 0,
            CASE WHEN rare THEN '{bank-a,bank-c}' ELSE kind.services END
     FROM generate_series(0, 29999) AS n
     CROSS JOIN LATERAL (SELECT n % 2 = 0 AND n % 7500 < 6 AS rare,
                                $1::timestamptz - (n / 3) * interval '1 minute' AS at,
                                (ARRAY['completed', 'completed', 'failed', 'running'])[n % 4 + 1] AS status,
                                'saga-' || lpad(n::text, 5, '0') AS id) AS facts
     CROSS JOIN LATERAL (SELECT * FROM (VALUES
       ('interbank-transfer', 'orchestrated', '{bank-a,bank-b}'::text[], 'credit'),
       ('marketplace-checkout', 'choreographed', '{order,payment,shipping}'::text[], 'charge-payment'))
       AS k(saga_type, mode, services, step)
       WHERE (n % 2 = 0) = (k.saga_type = 'interbank-transfer')) AS kind`,
    [new Date(NOW)],
  );
  // The vocabulary as the ingester keeps it: each type, its services and its mode.
  await pool.query(
    `INSERT INTO saga_vocabulary (kind, value)
     SELECT DISTINCT 'type_service', saga_type || '/' || service FROM saga_summary, unnest(services) AS service
     UNION SELECT DISTINCT 'saga_type', saga_type FROM saga_summary
     UNION SELECT DISTINCT 'type_mode', saga_type || '/' || mode FROM saga_summary
     ON CONFLICT DO NOTHING`,
  );
  await pool.query("ANALYZE saga_summary");
}

/** Every page of a filter, from the first, `limit` at a time. */
async function allPages(
  read: (input: ListSagasInput) => Promise<SagaPage>,
  filter: SagaFilter,
  limit: number,
) {
  const pages: SagaPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await read({ ...filter, limit, cursor });
    pages.push(page);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && pages.length < 100);
  return pages;
}

beforeAll(seed);

describe("a rare service's sagas read through the GIN index first", () => {
  const window = { from: new Date(NOW - 100 * 3_600_000), to: new Date(NOW - 40 * 3_600_000) };
  const filters: SagaFilter[] = [
    { service: "bank-c" },
    { service: "bank-c", mode: "orchestrated" },
    { service: "bank-c", mode: "choreographed" },
    { service: "bank-c", sagaType: "interbank-transfer" },
    { service: "bank-c", status: "completed" },
    { service: "bank-c", stuck: true },
    { service: "bank-c", step: "credit" },
    { service: "bank-c", ...window },
    { service: "bank-c", search: "saga-07502" },
    { service: "nowhere" },
  ];

  it.each(filters)("gives the ordinary statement's rows, order and cursor pages: %o", async (filter) => {
    const pool = store.pool();
    for (const limit of [2, 3, 50]) {
      const ordinary = await allPages(
        (i) => readSagaPage(pool, i, { rareServiceFirst: false }),
        filter,
        limit,
      );
      const rareFirst = await allPages(
        (i) => readSagaPage(pool, i, { rareServiceFirst: true }),
        filter,
        limit,
      );
      expect(rareFirst).toEqual(ordinary);
      expect(await allPages((i) => listSagas(pool, i), filter, limit)).toEqual(ordinary);
    }
  });

  it("pages through ties of the start time in the list's order, and finds every rare saga", async () => {
    const pool = store.pool();
    const pages = await allPages(
      (i) => readSagaPage(pool, i, { rareServiceFirst: true }),
      { service: "bank-c" },
      2,
    );
    const ids = pages.flatMap((p) => p.items.map((s) => s.sagaId));
    expect(pages).toHaveLength(6);
    expect(ids).toEqual(
      [
        "00002",
        "00000",
        "00004",
        "07502",
        "07500",
        "07504",
        "15002",
        "15000",
        "15004",
        "22502",
        "22500",
        "22504",
      ].map((n) => `saga-${n}`),
    );
  });
});

describe("which services are rare", () => {
  it("follows the planner's statistics: untracked services are rare, tracked ones are not", async () => {
    const pool = store.pool();
    expect(await isRareService(pool, "bank-c")).toBe(true);
    expect(await isRareService(pool, "nowhere")).toBe(true);
    expect(await isRareService(pool, "bank-a")).toBe(false);
    expect(await isRareService(pool, "payment")).toBe(false);
    expect(await isRareService(pool, undefined)).toBe(false);
  });

  it("does not trust a service grown past the cap since the last ANALYZE", async () => {
    const pool = store.pool();
    expect(await isRareService(pool, "grown")).toBe(true);
    await pool.query(
      `INSERT INTO saga_summary (saga_id, saga_type, mode, status, trace_id, started_at, last_progress_at,
                                 event_count, services)
       SELECT 'grown-' || n, 'interbank-transfer', 'orchestrated', 'completed', md5(n::text), now(), now(), 6,
              '{bank-a,grown}'
       FROM generate_series(1, 10001) AS n`,
    );
    expect(await isRareService(pool, "grown")).toBe(false);
    await pool.query("DELETE FROM saga_summary WHERE saga_id LIKE 'grown-%'");
  });
});

describe("filters that never meet", () => {
  it("answers empty only when no saga can match", async () => {
    const pool = store.pool();
    expect(await cannotMatch(pool, { sagaType: "interbank-transfer", service: "payment" })).toBe(true);
    expect(await cannotMatch(pool, { mode: "orchestrated", service: "payment" })).toBe(true);
    expect(await cannotMatch(pool, { mode: "choreographed", service: "payment" })).toBe(false);
    expect(await cannotMatch(pool, { sagaType: "interbank-transfer", mode: "choreographed" })).toBe(true);
    expect(await cannotMatch(pool, { sagaType: "never-seen", service: "bank-a" })).toBe(true);
    expect(await cannotMatch(pool, { mode: "orchestrated" })).toBe(false);
    expect(await cannotMatch(pool, { sagaType: "interbank-transfer", service: "bank-c" })).toBe(false);
    expect(await cannotMatch(pool, { sagaType: "marketplace-checkout", service: "payment" })).toBe(false);
    expect(await cannotMatch(pool, { service: "payment" })).toBe(false);
    const met = await listSagas(pool, { sagaType: "interbank-transfer", service: "bank-c", limit: 50 });
    expect(met.items).toHaveLength(12);
  });

  it("agrees with the sagas stored for every type, mode and service", async () => {
    const pool = store.pool();
    for (const sagaType of ["interbank-transfer", "marketplace-checkout", undefined]) {
      for (const mode of ["orchestrated", "choreographed", undefined] as const) {
        for (const service of ["bank-a", "bank-b", "bank-c", "order", "payment", "shipping", undefined]) {
          const filter = {
            ...(sagaType ? { sagaType } : {}),
            ...(mode ? { mode } : {}),
            ...(service ? { service } : {}),
          };
          const stored = await readSagaPage(pool, { ...filter, limit: 1 }, { rareServiceFirst: false });
          expect(await cannotMatch(pool, filter), JSON.stringify(filter)).toBe(stored.items.length === 0);
        }
      }
    }
  });
});
