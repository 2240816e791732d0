// A real opossum breaker reported through the bridge, against the real broker, ingester and
// store: it opens on its callee's failures, the dashboard's breakers list shows the pair as
// open (known only from its events, kept by its own library), and it closes again after a
// successful trial call; its stats windows count the calls it refused.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import CircuitBreaker from "opossum";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { holdGroup } from "../scripts/test/group-holder.ts";
import { testInfra, uniqueName, until } from "../scripts/test/infra.ts";
import { keptLogger } from "../scripts/test/kept-logger.ts";
import type { Logger } from "../server/log.ts";
import { OPERATOR, startBridgeHarness } from "./bridge-test-harness.ts";
import { bridgeOpossum } from "./opossum.ts";

let h: Awaited<ReturnType<typeof startBridgeHarness>>;
beforeAll(async () => {
  h = await startBridgeHarness("opossum");
});
afterAll(() => h.stop());

/** Long enough that the breaker is still open whenever the test reads the list. */
const STAYS_OPEN_MS = 10 * 60_000;
/** Short, for the test that watches a whole open → trial → closed cycle in the history. */
const QUICK_RESET_MS = 300;

function flakyCallee(resetTimeout: number, controlled = false, log?: Logger) {
  const callee = { name: uniqueName("inventory"), failing: true, reached: 0 };
  const breaker = new CircuitBreaker(
    async () => {
      callee.reached += 1;
      if (callee.failing) throw new Error("inventory is down");
      return "ok";
    },
    { errorThresholdPercentage: 50, volumeThreshold: 4, resetTimeout, timeout: 1000 },
  );
  const bridge = h.track(
    bridgeOpossum(breaker, {
      producer: h.producer,
      topic: h.topic,
      caller: "checkout",
      callee: callee.name,
      instance: "checkout-1",
      statsEveryMs: 200,
      ...(controlled ? { control: { kafka: h.kafka, topic: h.controlTopic, log } } : {}),
    }),
  );
  return { breaker, callee, pair: `checkout→${callee.name}`, bridge };
}

const listed = (pair: string) => h.listed(pair);

describe("an opossum breaker, bridged", () => {
  it("opens on failures and shows as an open pair kept by its own library, counting the calls it refuses", async () => {
    const { breaker, pair, callee } = flakyCallee(STAYS_OPEN_MS);
    for (let i = 0; i < 6; i++) await breaker.fire().catch(() => {});
    expect(breaker.opened).toBe(true);
    const open = await until("the pair listed open", async () => {
      const b = await listed(pair);
      return b?.state === "open" && b.reported?.failureRate != null ? b : undefined;
    });
    expect(open).toMatchObject({
      caller: "checkout",
      callee: callee.name,
      config: null,
      reported: { instance: "checkout-1", failureRate: 0.5, minimumCalls: 4 },
      lastEvaluation: { failures: 4 },
    });
    // While open, opossum refuses calls without reaching the callee; the windows count them.
    for (let i = 0; i < 3; i++) await breaker.fire().catch(() => {});
    await until("the refusals reported", async () => {
      const { rows } = await h.pool.query<{ n: number }>(
        "SELECT coalesce(sum(rejections), 0)::int AS n FROM breaker_stats WHERE pair = $1",
        [pair],
      );
      return (rows[0]?.n ?? 0) >= 3;
    });
    breaker.close();
    await until("the pair listed closed", async () => (await listed(pair))?.state === "closed");
  });

  it("reports a whole cycle: open, a trial call after resetTimeout, closed", async () => {
    const { breaker, pair, callee } = flakyCallee(QUICK_RESET_MS);
    for (let i = 0; i < 6; i++) await breaker.fire().catch(() => {});
    expect(breaker.opened).toBe(true);
    callee.failing = false;
    await until("opossum half-open", () => breaker.halfOpen, QUICK_RESET_MS * 20);
    expect(await breaker.fire()).toBe("ok");
    expect(breaker.closed).toBe(true);
    await until(
      "the cycle in the pair's history",
      async () => (await h.transitions(pair)).join(" ") === "closed→open open→half_open half_open→closed",
    );
    expect((await listed(pair))?.state).toBe("closed");
  });
});

/**
 * The opossum example of docs/breakers.md, written beside the checkout (test-results/) so that
 * its import of the bridge resolves; the import path is the one thing changed.
 */
function documentedExample(): string {
  const doc = readFileSync("docs/breakers.md", "utf8");
  const block = /<!-- example:opossum-bridge -->\s*```ts\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/breakers.md lost its opossum-bridge example");
  mkdirSync("test-results", { recursive: true });
  const file = path.resolve("test-results/docs-opossum-bridge.ts");
  writeFileSync(file, block.replace('from "./bridges/opossum.ts"', 'from "../bridges/opossum.ts"'));
  return file;
}

describe("an operator's decision, through the control channel", () => {
  it("forced closed from the dashboard, the open opossum breaker lets calls through and says it applied it; cleared, it is opossum's again", async () => {
    const { breaker, pair, callee, bridge } = flakyCallee(STAYS_OPEN_MS, true);
    await bridge.controlled;
    for (let i = 0; i < 6; i++) await breaker.fire().catch(() => {});
    expect(breaker.opened).toBe(true);
    await until("the pair listed open", async () => (await listed(pair))?.state === "open");
    const forced = await h.override(pair, "force-closed");
    expect(forced.message).toMatch(/forced closed until cleared by ops@example\.test.*control channel/);
    // Nothing of it went to Sagascope's Redis: the pair stays another library's.
    expect(await h.breakerStore.knows(pair)).toBe(false);
    await until("opossum disabled by the bridge", () => !breaker.enabled);
    const reachedBefore = callee.reached;
    for (let i = 0; i < 3; i++) await breaker.fire().catch(() => {});
    expect(callee.reached - reachedBefore).toBe(3);
    const applied = await until("the decision applied, as the dashboard sees it", async () => {
      const b = await listed(pair);
      return b?.forced === "closed" && b.control?.acknowledgedBy.includes("checkout-1") ? b : undefined;
    });
    expect(applied.control).toMatchObject({
      forced: "closed",
      requestedBy: OPERATOR,
      waitingFor: [],
    });

    await h.override(pair, "clear");
    await until("opossum enabled and closed again", () => breaker.enabled && breaker.closed);
    await until("the clearing applied, as the dashboard sees it", async () => {
      const b = await listed(pair);
      return (
        b?.forced === null && b.control?.forced === null && b.control.acknowledgedBy.includes("checkout-1")
      );
    });
    await expect(h.override(pair, "reset")).rejects.toThrow(/keeps its counters in its own library/);
  });

  it("whose control consumer could not join its group at start, still obeys the operator once it can", async () => {
    // The bridge's group is held by another tool's consumer, so its join is refused with an
    // error kafkajs does not restart after (as when a fresh broker has no coordinator yet).
    const callee = uniqueName("inventory");
    const pair = `checkout→${callee}`;
    const holder = await holdGroup(h.kafka, `sagascope-bridge.checkout-1.${pair}`, [h.controlTopic]);
    let released = false;
    try {
      const lines: string[] = [];
      const breaker = new CircuitBreaker(async () => "ok", { resetTimeout: STAYS_OPEN_MS });
      const bridge = h.track(
        bridgeOpossum(breaker, {
          producer: h.producer,
          topic: h.topic,
          caller: "checkout",
          callee,
          instance: "checkout-1",
          statsEveryMs: 200,
          control: { kafka: h.kafka, topic: h.controlTopic, log: keptLogger(lines, "bridge") },
        }),
      );
      await bridge.controlled;
      await until("the control consumer to crash on the held group", () =>
        lines.some((l) => l.includes("kafkajs will not restart it")),
      );
      await until("the pair listed", async () => (await listed(pair)) !== undefined);
      await h.override(pair, "force-open");
      await holder.release();
      released = true;
      await until("opossum opened by the operator's decision", () => breaker.opened, 60_000);
      expect(lines.some((l) => l.includes("consumer running again after a crash"))).toBe(true);
      await h.override(pair, "clear");
      await until("opossum closed again", () => breaker.closed);
    } finally {
      if (!released) await holder.release();
    }
  }, 90_000);
});

describe("docs/breakers.md", () => {
  it("its opossum example, run as written, puts payments→ledger on the breakers list, open", async () => {
    const run = spawnSync("node_modules/.bin/tsx", [documentedExample()], {
      env: { ...process.env, KAFKA_BROKERS: testInfra().kafkaBrokers.join(","), BREAKER_TOPIC: h.topic },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("payments→ledger is open");
    // The example's state change and its last stats window are separate sends, which may be
    // stored in either order: the thresholds come with the state change.
    const pair = await until("payments→ledger listed open, with its state change", async () => {
      const b = await listed("payments→ledger");
      return b?.state === "open" && b.reported?.failureRate != null ? b : undefined;
    });
    expect(pair.reported).toMatchObject({ failureRate: 0.5, minimumCalls: 4 });
  });
});
