// The audit page's pure pieces: URL parameters ⇄ filter, phases grouped per action across
// pages, target links and compact parameters.
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../server/audit/audit-log.ts";
import {
  auditFilter,
  auditParams,
  auditQuery,
  compactParams,
  groupActions,
  rangeProblem,
  targetHref,
} from "./audit-view.ts";

let nextId = 1;
const entry = (actionId: string, phase: AuditEntry["phase"], at: string, message = ""): AuditEntry => ({
  id: nextId++,
  actionId,
  at: new Date(at),
  actor: "op@example.test",
  actorRole: "operator",
  action: "breaker.force-open",
  target: "transfers→bank-b",
  params: { forMinutes: 5, reason: "" },
  idempotencyKey: `${actionId}-key`,
  phase,
  message,
});

describe("audit view", () => {
  it("reads the URL's parameters one by one, dropping what does not parse, and writes them back in order", () => {
    const params = auditParams(
      new URLSearchParams(
        "phase=bogus&to=2026-01-02T00:00:00.000Z&actor=%20alice%20&wall=1&action=fleet.faults&from=yesterday",
      ),
    );
    expect(params).toEqual({ actor: "alice", action: "fleet.faults", to: "2026-01-02T00:00:00.000Z" });
    expect(auditQuery(params)).toBe("actor=alice&action=fleet.faults&to=2026-01-02T00%3A00%3A00.000Z");
    expect(auditFilter({ ...params, phase: "denied" })).toEqual({
      actor: "alice",
      action: "fleet.faults",
      phase: "denied",
      to: new Date("2026-01-02T00:00:00.000Z"),
    });
    expect(rangeProblem({ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" })).toMatch(
      /start before/,
    );
    expect(rangeProblem({ from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" })).toBeUndefined();
  });

  it("groups each action's phases oldest first, even when its phases arrive on different pages", () => {
    const requestedA = entry("a", "requested", "2026-01-01T10:00:00Z");
    const doneA = entry("a", "done", "2026-01-01T10:00:01Z", "forced open");
    const deniedB = entry(
      "b",
      "denied",
      "2026-01-01T10:00:02Z",
      "the viewer role may not breaker.force-open",
    );
    const requestedC = entry("c", "requested", "2026-01-01T10:00:03Z");
    const pendingC = entry("c", "pending", "2026-01-01T10:00:04Z", "sent");
    // Newest first, as the API gives them; the first page ends between a's phases.
    const firstPage = [pendingC, requestedC, deniedB, doneA];
    const secondPage = [requestedA];
    const actions = groupActions([...firstPage, ...secondPage, doneA]);
    expect(actions.map((a) => [a.actionId, a.phases.map((p) => p.phase), a.outcome, a.message])).toEqual([
      ["c", ["requested", "pending"], "pending", "sent"],
      ["b", ["denied"], "denied", "the viewer role may not breaker.force-open"],
      ["a", ["requested", "done"], "done", "forced open"],
    ]);
    expect(actions[2]?.at).toEqual(new Date("2026-01-01T10:00:00Z"));
  });

  it("links a saga to its page and a pair to its breaker, and nothing else", () => {
    expect(targetHref("saga.compensate", "transfer/1")).toBe("/sagas/transfer%2F1");
    expect(targetHref("saga.bulk-compensate", "sagas matching a filter")).toBeUndefined();
    expect(targetHref("breaker.force-open", "transfers→bank-b")).toBe(
      "/breakers?pair=transfers%E2%86%92bank-b",
    );
    expect(targetHref("fleet.faults", "bank-a")).toBeUndefined();
    expect(targetHref("users.create", "new@example.test")).toBeUndefined();
  });

  it("puts parameters on one line without the empty ones, and cuts a long line", () => {
    expect(compactParams({ service: "bank-a", errorRate: 0, reason: "", forMinutes: null }).short).toBe(
      "service=bank-a, errorRate=0",
    );
    const long = compactParams({ proposed: { failureRate: 0.5, minimumCalls: 20, windowMs: 10_000 } }, 30);
    expect(long.short).toHaveLength(30);
    expect(long.short.endsWith("…")).toBe(true);
    expect(JSON.parse(long.full)).toEqual({
      proposed: { failureRate: 0.5, minimumCalls: 20, windowMs: 10_000 },
    });
  });
});
