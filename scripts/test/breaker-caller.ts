// A caller process for the breaker tests: calls one HTTP callee in a loop through the shared
// breaker of the pair test-caller→test-callee, and prints its counters as a JSON line every
// 100 ms. Stops on SIGTERM.
import { z } from "zod";
import { createBreakerRegistry } from "../../server/breakers/circuit-breaker.ts";
import { createLogger } from "../../server/log.ts";

const config = z
  .object({
    REDIS_URL: z.string(),
    BREAKER_NAMESPACE: z.string(),
    CALLEE_URL: z.url(),
    CALLER_CONCURRENCY: z.coerce.number().int().min(1).default(2),
    CALLER_PAUSE_MS: z.coerce.number().int().min(0).default(5),
    CALLER_NAME: z.string().default(`caller-${process.pid}`),
  })
  .parse(process.env);

const registry = createBreakerRegistry({
  redisUrl: config.REDIS_URL,
  namespace: config.BREAKER_NAMESPACE,
  instance: config.CALLER_NAME,
  log: createLogger(config.CALLER_NAME, "warn"),
});
await registry.start();
const breaker = registry.breaker({ caller: "test-caller", callee: "test-callee" });
const counters = { calls: 0, passed: 0, rejected: 0, failed: 0 };
let running = true;

async function loop() {
  while (running) {
    counters.calls += 1;
    try {
      await breaker.call(async () => {
        counters.passed += 1;
        const response = await fetch(config.CALLEE_URL);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`callee answered ${response.status}`);
      });
    } catch (error) {
      if ((error as Error).name === "BreakerOpenError") counters.rejected += 1;
      else counters.failed += 1;
    }
    await new Promise((r) => setTimeout(r, config.CALLER_PAUSE_MS));
  }
}

const loops = Array.from({ length: config.CALLER_CONCURRENCY }, loop);
const reporter = setInterval(() => {
  console.log(
    JSON.stringify({ ...counters, state: breaker.state().state, version: breaker.state().version }),
  );
}, 100);
process.on("SIGTERM", async () => {
  running = false;
  clearInterval(reporter);
  await Promise.all(loops);
  await registry.stop();
  process.exit(0);
});
