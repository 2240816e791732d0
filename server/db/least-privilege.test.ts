// The processes' least privilege: a login in the sagascope_runtime role (made by the
// migrations) stores saga events, adds to the audit log and signs users in, but cannot change,
// delete or empty audit rows, drop or disable the audit log's triggers, or change the schema;
// next month's saga_event partition is still made, through the owner's function.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scratchDatabase, testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { appendAudit, newActionId } from "../audit/audit-log.ts";
import { createUser } from "../auth/users.ts";
import { newTrace, sagaEvent } from "../events/index.ts";
import { storeBatch } from "../ingest/store-batch.ts";
import { migrate } from "./migrate.ts";
import { createPool, type Pool } from "./pool.ts";

let db: Awaited<ReturnType<typeof scratchDatabase>>;
let owner: pg.Client;
let runtime: Pool;
const login = uniqueName("sagascope_app");

beforeAll(async () => {
  db = await scratchDatabase("privilege");
  await migrate(db.url, () => {});
  owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  // What a deployment does once (docs/deployment.md, as written there): a login in the runtime role.
  const statement = /```sql\n(?:--[^\n]*\n)*(CREATE ROLE sagascope_app [^\n]+)\n```/.exec(
    readFileSync("docs/deployment.md", "utf8"),
  )?.[1];
  if (!statement) throw new Error("docs/deployment.md no longer shows the CREATE ROLE statement");
  await owner.query(statement.replace("sagascope_app", login));
  const url = new URL(db.url);
  url.username = login;
  url.password = "";
  runtime = createPool(url.toString(), 2);
});

afterAll(async () => {
  await runtime?.end();
  await owner?.end();
  await db?.drop();
  // The login is the cluster's: dropped once the database that granted it is gone.
  const admin = new pg.Client({ connectionString: testInfra().databaseUrl });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${login}`).finally(() => admin.end());
});

/** The SQLSTATE a statement run as the runtime login fails with (undefined when it succeeds). */
const refusal = (sql: string) =>
  runtime.query(sql).then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

describe("the runtime role", () => {
  it("does the processes' work: stores saga events, audits, signs users in, makes next month's partition", async () => {
    // A hardened database takes temporary tables from everyone; the ingester's batches are
    // staged in them (server/db/staging-table.ts), by the runtime role's own grant.
    await owner.query(`REVOKE TEMPORARY ON DATABASE ${new URL(db.url).pathname.slice(1)} FROM PUBLIC`);
    const o = { source: "/privilege-test", trace: newTrace() };
    const sagaId = `saga-${randomUUID()}`;
    const base = { sagaId, sagaType: "transfer", mode: "orchestrated" as const };
    const started = sagaEvent(
      "io.sagascope.saga.started",
      { ...base, steps: [{ name: "debit", service: "a" }] },
      o,
    );
    const outcome = await storeBatch(runtime, {
      events: [{ event: started, position: { topic: "t", partition: 0, offset: 1 } }],
    });
    expect(outcome.inserted).toBe(1);
    expect(
      await appendAudit(
        runtime,
        {
          actionId: newActionId(),
          actor: "ops@example.test",
          actorRole: "operator",
          action: "breaker.force-open",
          target: "a→b",
          params: {},
          idempotencyKey: null,
        },
        "requested",
      ),
    ).toBe(true);
    await createUser(runtime, {
      email: "new@example.test",
      name: "New",
      role: "viewer",
      password: "long-enough-password",
    });
    const { rows } = await runtime.query("SELECT sagascope_ensure_event_partitions('2034-03-10', 1) AS made");
    expect(rows[0].made).toBe(1);
  });

  it("cannot change, delete or empty audit rows, touch the audit log's triggers, or change the schema", async () => {
    const denied = "42501"; // insufficient_privilege: refused before any trigger runs
    expect(await refusal("UPDATE audit_entry SET message = 'rewritten'")).toBe(denied);
    expect(await refusal("DELETE FROM audit_entry")).toBe(denied);
    expect(await refusal("TRUNCATE audit_entry")).toBe(denied);
    expect(await refusal("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_update")).toBe(denied);
    expect(await refusal("DROP TRIGGER audit_entry_no_update ON audit_entry")).toBe(denied);
    expect(await refusal("DROP TABLE saga_summary")).toBe(denied);
    expect(await refusal("CREATE TABLE smuggled (id int)")).toBe(denied);
    expect(await refusal("DELETE FROM sagascope_migrations")).toBe(denied);
    // The audit row written above is still there, unchanged.
    const { rows } = await owner.query(
      "SELECT count(*)::int AS n FROM audit_entry WHERE message = 'rewritten'",
    );
    expect(rows[0].n).toBe(0);
  });
});
