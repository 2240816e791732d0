// A real cockatiel circuit breaker policy reported through the bridge, against the real
// broker, ingester and store: it breaks on its callee's failures and the dashboard lists the
// pair open, counting the calls it refuses; a whole break → half-open → reset cycle reaches
// the pair's history; an operator forces it closed (calls reach the callee though the policy
// is broken) and open (cockatiel's own isolation refuses every call), each reported back as
// applied, and clearing hands the calls back to the policy (closed, as cockatiel ends an isolation).
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleAll,
  IsolatedCircuitError,
} from "cockatiel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uniqueName, until } from "../scripts/test/infra.ts";
import { startBridgeHarness } from "./bridge-test-harness.ts";
import { bridgeCockatiel } from "./cockatiel.ts";

let h: Awaited<ReturnType<typeof startBridgeHarness>>;
beforeAll(async () => {
  h = await startBridgeHarness("cockatiel");
});
afterAll(() => h.stop());

const FAILURES_TO_BREAK = 4;
/** Long enough that the policy is still broken whenever the test reads the list. */
const STAYS_OPEN_MS = 10 * 60_000;
const QUICK_HALF_OPEN_MS = 300;

function flakyCallee(halfOpenAfter: number) {
  const callee = { name: uniqueName("pricing"), failing: true, reached: 0 };
  const policy = circuitBreaker(handleAll, {
    halfOpenAfter,
    breaker: new ConsecutiveBreaker(FAILURES_TO_BREAK),
  });
  const bridge = h.track(
    bridgeCockatiel(policy, {
      producer: h.producer,
      topic: h.topic,
      caller: "quotes",
      callee: callee.name,
      instance: "quotes-1",
      statsEveryMs: 200,
      thresholds: { failureRate: 1, minimumCalls: FAILURES_TO_BREAK, openMs: halfOpenAfter },
      control: { kafka: h.kafka, topic: h.controlTopic },
    }),
  );
  const call = () =>
    bridge.execute(async () => {
      callee.reached += 1;
      if (callee.failing) throw new Error("pricing is down");
      return "ok";
    });
  return { policy, bridge, callee, call, pair: `quotes→${callee.name}` };
}

describe("a cockatiel breaker, bridged", () => {
  it("breaks on failures, shows as an open pair, and counts the calls it refuses", async () => {
    const { policy, call, pair } = flakyCallee(STAYS_OPEN_MS);
    for (let i = 0; i < FAILURES_TO_BREAK; i++) await call().catch(() => {});
    expect(policy.state).toBe(CircuitState.Open);
    await expect(call()).rejects.toBeInstanceOf(BrokenCircuitError);
    const open = await until("the pair listed open", async () => {
      const b = await h.listed(pair);
      return b?.state === "open" && b.reported?.failureRate != null ? b : undefined;
    });
    expect(open).toMatchObject({
      config: null,
      reported: { instance: "quotes-1", failureRate: 1, minimumCalls: FAILURES_TO_BREAK },
    });
    await until("the refusal reported", async () => {
      const { rows } = await h.pool.query<{ n: number }>(
        "SELECT coalesce(sum(rejections), 0)::int AS n FROM breaker_stats WHERE pair = $1",
        [pair],
      );
      return (rows[0]?.n ?? 0) >= 1;
    });
  });

  it("reports a whole cycle: break, half-open after halfOpenAfter, reset on a successful trial", async () => {
    const { policy, call, callee, pair } = flakyCallee(QUICK_HALF_OPEN_MS);
    for (let i = 0; i < FAILURES_TO_BREAK; i++) await call().catch(() => {});
    callee.failing = false;
    await new Promise((resolve) => setTimeout(resolve, QUICK_HALF_OPEN_MS + 50));
    expect(await call()).toBe("ok");
    expect(policy.state).toBe(CircuitState.Closed);
    await until(
      "the cycle in the pair's history",
      async () => (await h.transitions(pair)).join(" ") === "closed→open open→half_open half_open→closed",
    );
  });

  it("obeys an operator: forced closed lets calls reach the callee, forced open isolates, each reported back", async () => {
    const { policy, bridge, call, callee, pair } = flakyCallee(STAYS_OPEN_MS);
    await bridge.controlled;
    for (let i = 0; i < FAILURES_TO_BREAK; i++) await call().catch(() => {});
    await until("the pair listed open", async () => (await h.listed(pair))?.state === "open");

    await h.override(pair, "force-closed");
    const applied = (forced: string | null) =>
      until(`forced ${forced} applied, as the dashboard sees it`, async () => {
        const b = await h.listed(pair);
        return (
          b?.forced === forced &&
          b.control?.forced === forced &&
          b.control.acknowledgedBy.includes("quotes-1")
        );
      });
    await applied("closed");
    const before = callee.reached;
    for (let i = 0; i < 3; i++) await call().catch(() => {});
    expect(callee.reached - before).toBe(3);

    await h.override(pair, "force-open");
    await applied("open");
    expect(policy.state).toBe(CircuitState.Isolated);
    await expect(call()).rejects.toBeInstanceOf(IsolatedCircuitError);

    await h.override(pair, "clear");
    await applied(null);
    // Back to the policy: cockatiel ends an isolation closed, so the next call reaches the callee.
    expect(policy.state).toBe(CircuitState.Closed);
    const reached = callee.reached;
    await expect(call()).rejects.toThrow("pricing is down");
    expect(callee.reached).toBe(reached + 1);
  });
});
