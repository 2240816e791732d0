// What each rejection policy does with a call the breaker refused (or gave up on).
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { createLogger } from "../log.ts";
import { StepFailure } from "../sagas/step-failure.ts";
import { createBreakerStore } from "./breaker-store.ts";
import { type Breaker, type BreakerRegistry, createBreakerRegistry } from "./circuit-breaker.ts";
import { callWithPolicy } from "./rejection-policy.ts";

const namespace = `${uniqueName("policy")}:`;
const redis = new Redis(testInfra().redisUrl);
let registry: BreakerRegistry;
let open: Breaker;
let closed: Breaker;

beforeAll(async () => {
  await createBreakerStore(redis, namespace).force("caller→down", "open", Date.now());
  registry = createBreakerRegistry({
    redisUrl: testInfra().redisUrl,
    namespace,
    instance: "t",
    log: createLogger("t", "error"),
  });
  await registry.start();
  open = registry.breaker({ caller: "caller", callee: "down" });
  closed = registry.breaker({ caller: "caller", callee: "up" });
  for (let i = 0; i < 100 && open.state().forced !== "open"; i++) await new Promise((r) => setTimeout(r, 10));
});

afterAll(async () => {
  await registry.stop();
  redis.disconnect();
});

describe("rejection policies", () => {
  it("compensate: a business failure, so the saga compensates at once", async () => {
    const error = await callWithPolicy(open, async () => 1, "compensate").catch((e) => e);
    expect(error).toBeInstanceOf(StepFailure);
    expect(error).toMatchObject({ category: "business", code: "BREAKER_OPEN" });
  });

  it("queue: a transient failure, so the saga runtime tries again later", async () => {
    const error = await callWithPolicy(open, async () => 1, "queue").catch((e) => e);
    expect(error).toMatchObject({ category: "transient", code: "BREAKER_OPEN" });
  });

  it("drop: the fallback stands in for the call, also when the call outlasts its time limit", async () => {
    let called = false;
    const dropped = await callWithPolicy(
      open,
      async () => {
        called = true;
        return "screened";
      },
      "drop",
      () => "unscreened",
    );
    expect(dropped).toBe("unscreened");
    expect(called).toBe(false);
    const slow = await callWithPolicy(
      closed,
      () => new Promise<string>((r) => setTimeout(() => r("screened"), 200)),
      "drop",
      (e) => `unscreened: ${e.name}`,
      { timeoutMs: 20 },
    );
    expect(slow).toBe("unscreened: BreakerTimeoutError");
    expect(
      await callWithPolicy(
        closed,
        async () => "screened",
        "drop",
        () => "unscreened",
        { timeoutMs: 200 },
      ),
    ).toBe("screened");
  });

  it("a call's own error is never hidden by a policy", async () => {
    await expect(
      callWithPolicy(
        closed,
        async () => {
          throw new Error("boom");
        },
        "drop",
        () => "x",
      ),
    ).rejects.toThrow("boom");
  });
});
