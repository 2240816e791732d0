// A real Resilience4j CircuitBreaker (Java), bridged: the Resilience4j example of
// docs/breakers.md compiled as written and run against the test broker, a real ingester and
// the dashboard's reads. It opens and is listed open with Resilience4j's own thresholds;
// forced closed from the dashboard it lets calls through and says it applied it; cleared it
// is Resilience4j's again; forced open it refuses calls. The JVM is stopped in the teardown.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName, until } from "../scripts/test/infra.ts";
import { OPERATOR, startBridgeHarness } from "./bridge-test-harness.ts";
import {
  type ExampleRun,
  prepareResilience4jExample,
  runResilience4jExample,
} from "./resilience4j-example.ts";

let h: Awaited<ReturnType<typeof startBridgeHarness>>;
let classpath: string;

beforeAll(async () => {
  classpath = prepareResilience4jExample(path.resolve("test-results/resilience4j-example"), (line) =>
    console.log(`[resilience4j] ${line}`),
  );
  h = await startBridgeHarness("resilience4j");
}, 600_000);

let run: ExampleRun | undefined;
afterAll(async () => {
  await run?.stop();
  await h?.stop();
});

describe("a Resilience4j breaker, bridged (docs/breakers.md, as written)", () => {
  it("opens and is listed with its thresholds; an operator forces it closed, clears it and forces it open, each applied and reported back", async () => {
    const callee = uniqueName("ledger");
    const pair = `payments→${callee}`;
    run = runResilience4jExample(classpath, {
      brokers: testInfra().kafkaBrokers,
      topic: h.topic,
      controlTopic: h.controlTopic,
      callee,
    });
    const example = run;
    expect(await example.first()).toBe(`${pair} is OPEN`);
    const open = await until("the pair listed open", async () => {
      const b = await h.listed(pair);
      return b?.state === "open" && b.reported?.failureRate != null ? b : undefined;
    });
    expect(open).toMatchObject({
      caller: "payments",
      callee,
      config: null,
      reported: { failureRate: 0.5, minimumCalls: 4 },
    });
    const instance = open.reported?.instance as string;
    expect(instance).toMatch(/^payments-\d+$/);
    // Open: Resilience4j refuses without reaching the ledger.
    expect(await example.ask("call")).toBe("OPEN CallNotPermittedException reached=4");

    await h.override(pair, "force-closed");
    await until("Resilience4j disabled by the bridge", async () =>
      (await example.ask("state")).startsWith("DISABLED"),
    );
    // Every call now reaches the ledger (which is still down), and the breaker does not open.
    expect(await example.ask("call")).toBe("DISABLED IllegalStateException reached=5");
    expect(await example.ask("call")).toBe("DISABLED IllegalStateException reached=6");
    const applied = await until("the decision applied, as the dashboard sees it", async () => {
      const b = await h.listed(pair);
      return b?.forced === "closed" && b.control?.acknowledgedBy.includes(instance) ? b : undefined;
    });
    expect(applied.control).toMatchObject({ forced: "closed", requestedBy: OPERATOR, waitingFor: [] });

    await h.override(pair, "clear");
    await until("Resilience4j closed again", async () => (await example.ask("state")).startsWith("CLOSED"));
    await until("the clearing applied, as the dashboard sees it", async () => {
      const b = await h.listed(pair);
      return b?.forced === null && b.control?.forced === null && b.control.acknowledgedBy.includes(instance);
    });

    await h.override(pair, "force-open");
    await until("Resilience4j forced open", async () =>
      (await example.ask("state")).startsWith("FORCED_OPEN"),
    );
    expect(await example.ask("call")).toMatch(/^FORCED_OPEN CallNotPermittedException reached=\d+$/);
    await until("listed forced open", async () => {
      const b = await h.listed(pair);
      return b?.state === "open" && b.forced === "open" && b.control?.acknowledgedBy.includes(instance);
    });
    await expect(h.override(pair, "reset")).rejects.toThrow(/keeps its counters in its own library/);
  }, 180_000);
});
