// Saved views through the API as each role would use them, on a database of the test's own:
// private and shared views with their counts, sharing refused to a viewer (and audited), bad
// filters refused with the reason, the per-user limit, deleting, and the landing view.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Role } from "../../../browser-safe/roles.ts";
import { migratedStore } from "../../../scripts/test/infra.ts";
import type { RequestAuth } from "../../auth/request-auth.ts";
import { newTrace, sagaEvent } from "../../events/index.ts";
import { storeBatch } from "../../ingest/store-batch.ts";
import { VIEWS_PER_USER } from "../../views/view-query.ts";
import type { Context } from "../init.ts";
import { createCaller } from "../root.ts";

const store = migratedStore("views", 4);

const auth = (role: Role, id: string = role): RequestAuth => ({
  actor: { id, email: `${id}@example.test`, name: id, role, via: "session" },
  csrf: "token",
  safeForActions: true,
  problem: null,
  stillSignedIn: async () => true,
});
const as = (role: Role, id?: string) =>
  createCaller({ pool: store.pool(), auth: auth(role, id), actions: {} } as unknown as Context);
const key = () => randomUUID();

async function seedSagas(statusOf: (i: number) => "failed" | "running", n: number) {
  const events = Array.from({ length: n }, (_, i) => {
    const sagaId = `views-saga-${i}`;
    const trace = newTrace();
    const base = { sagaId, sagaType: "transfer", mode: "orchestrated" as const };
    const start = sagaEvent(
      "io.sagascope.saga.started",
      { ...base, steps: [{ name: "debit", service: "bank" }] },
      {
        source: "/test",
        trace,
      },
    );
    if (statusOf(i) === "running") return [start];
    return [
      start,
      sagaEvent(
        "io.sagascope.saga.aborted",
        { ...base, durationMs: 5, reason: "no funds", failedStep: "debit", compensated: false },
        { source: "/test", trace },
      ),
    ];
  }).flat();
  await storeBatch(store.pool(), {
    events: events.map((event, offset) => ({
      event,
      position: { topic: "views-test", partition: 0, offset },
    })),
  });
}

describe("saved views", () => {
  it("saves private and shared views, each listed with what it matches now", async () => {
    await seedSagas((i) => (i % 3 === 0 ? "failed" : "running"), 9);
    const viewer = as("viewer", "v1");
    const saved = await viewer.views.act({
      op: "save",
      page: "sagas",
      name: "Failed transfers",
      query: "type=transfer&status=failed",
      idempotencyKey: key(),
    });
    expect(saved).toMatchObject({
      phase: "done",
      message: expect.stringContaining('saved the view "Failed transfers", private'),
    });
    // A viewer may not share: refused and on the audit log as denied.
    await expect(
      viewer.views.act({
        op: "save",
        page: "sagas",
        name: "Everything",
        query: "",
        shared: true,
        idempotencyKey: key(),
      }),
    ).rejects.toMatchObject({ code: "FORBIDDEN", message: "refused: the viewer role may not views.save" });
    const operator = as("operator", "o1");
    await operator.views.act({
      op: "save",
      page: "sagas",
      name: "Running",
      query: "status=running",
      shared: true,
      idempotencyKey: key(),
    });
    await operator.views.act({
      op: "save",
      page: "audit",
      name: "Denied",
      query: "phase=denied",
      idempotencyKey: key(),
    });

    const mine = await viewer.views.list();
    expect(mine.views.map((v) => [v.name, v.mine, v.shared, v.count, v.href])).toEqual([
      ["Failed transfers", true, false, 3, "/sagas?status=failed&type=transfer"],
      ["Running", false, true, 6, "/sagas?status=running"],
    ]);
    // The operator's private audit view counts the viewer's denied share.
    const theirs = await operator.views.list();
    expect(theirs.views.map((v) => [v.name, v.count])).toEqual([
      ["Denied", 1],
      ["Running", 6],
    ]);
  });

  it("refuses a filter the page would not read, saying why", async () => {
    const viewer = as("viewer", "v2");
    const refusal = (query: string, page: "sagas" | "audit" = "sagas") =>
      viewer.views.act({ op: "save", page, name: "bad", query, idempotencyKey: key() });
    expect(await refusal("status=lost")).toMatchObject({
      phase: "refused",
      message: expect.stringContaining("not a filter of the sagas page: status:"),
    });
    expect(await refusal("colour=blue")).toMatchObject({
      phase: "refused",
      message: expect.stringContaining("colour"),
    });
    expect(await refusal("from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z")).toMatchObject({
      phase: "refused",
      message: "refused: the range must start before it ends",
    });
    expect(await refusal("phase=done&phase=denied", "audit")).toMatchObject({
      phase: "refused",
      message: 'refused: the parameter "phase" is given twice',
    });
    await expect(
      viewer.views.act({ op: "save", page: "sagas", name: "x".repeat(81), query: "", idempotencyKey: key() }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect((await viewer.views.list()).views.filter((v) => v.mine)).toEqual([]);
  });

  it(`keeps at most ${VIEWS_PER_USER} views a user; saving under a name they have replaces it`, async () => {
    const viewer = as("viewer", "v3");
    for (let i = 0; i < VIEWS_PER_USER; i++)
      await viewer.views.act({
        op: "save",
        page: "audit",
        name: `view ${i}`,
        query: "",
        idempotencyKey: key(),
      });
    expect(
      await viewer.views.act({
        op: "save",
        page: "audit",
        name: "one more",
        query: "",
        idempotencyKey: key(),
      }),
    ).toMatchObject({
      phase: "refused",
      message: expect.stringContaining(`${VIEWS_PER_USER} views already`),
    });
    expect(
      await viewer.views.act({
        op: "save",
        page: "audit",
        name: "view 7",
        query: "phase=done",
        idempotencyKey: key(),
      }),
    ).toMatchObject({ phase: "done", message: expect.stringContaining('replaced the view "view 7"') });
    const views = (await viewer.views.list()).views.filter((v) => v.mine);
    expect(views).toHaveLength(VIEWS_PER_USER);
    expect(views.find((v) => v.name === "view 7")?.query).toBe("phase=done");
  });

  it("lands a user on a view of theirs or the team's; deleting is the owner's, or an admin's", async () => {
    const viewer = as("viewer", "v4");
    const shared = (await as("operator", "o1").views.list()).views.find((v) => v.name === "Running");
    expect(shared).toBeDefined();
    const id = shared?.id as string;
    expect(await viewer.views.landing()).toEqual({ href: null });
    await viewer.views.act({ op: "landing", id, idempotencyKey: key() });
    expect(await viewer.views.landing()).toEqual({ href: "/sagas?status=running" });
    expect((await viewer.views.list()).views.find((v) => v.id === id)?.landing).toBe(true);

    await expect(viewer.views.act({ op: "delete", id, idempotencyKey: key() })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await as("admin", "a1").views.act({ op: "delete", id, idempotencyKey: key() })).toMatchObject({
      phase: "done",
      message: 'deleted the view "Running"',
    });
    // Its landing goes with it.
    expect(await viewer.views.landing()).toEqual({ href: null });
    const stranger = randomUUID();
    expect(await viewer.views.act({ op: "landing", id: stranger, idempotencyKey: key() })).toMatchObject({
      phase: "refused",
    });
  });
});
