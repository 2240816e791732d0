// `npm run bench:breaker`: what a breaker adds to a call, in the same run: an unguarded call,
// opossum (in-process), a breaker that asks Redis on every call (the baseline to beat), and
// ours (local mirror, batched Lua), at 1 and 8 concurrent callers; then how long a forced
// state takes to reach every other instance. Prints figures, asserts nothing.
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import CircuitBreaker from "opossum";
import { createBreakerStore } from "../../server/breakers/breaker-store.ts";
import { createBreakerRegistry } from "../../server/breakers/circuit-breaker.ts";
import { env } from "../../server/env.ts";
import { createLogger } from "../../server/log.ts";
import { say, step } from "../infra/progress.ts";
import { ensureRedis } from "../infra/redis.ts";

const CALLS = { 1: 20_000, 8: 40_000 } as const;
const config = env();
const log = createLogger("bench", "error");
const namespace = `bench-breaker-${Date.now().toString(36)}:`;
const work = () => Promise.resolve(1);

/** The baseline to beat: one Lua round trip per call that checks the state and counts the call. */
const REDIS_PER_CALL_LUA = `
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then return 0 end
redis.call('HINCRBY', KEYS[2], 'calls', 1)
return 1`;

type Guard = (fn: () => Promise<number>) => Promise<unknown>;

async function measure(guard: Guard, concurrency: 1 | 8) {
  const total = CALLS[concurrency];
  const latencies = new Float64Array(total);
  let next = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await guard(work);
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (p: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) * 1000;
  return { p50: at(0.5), p99: at(0.99), perSecond: total / seconds };
}

async function main() {
  await ensureRedis(config.REDIS_URL, config.given.redis);
  const redis = new Redis(config.REDIS_URL);
  const perCallSha = (await redis.script("LOAD", REDIS_PER_CALL_LUA)) as string;
  const opossum = new CircuitBreaker((fn: () => Promise<number>) => fn(), {
    errorThresholdPercentage: 50,
    resetTimeout: 5000,
    timeout: false,
  });
  const registry = createBreakerRegistry({ redisUrl: config.REDIS_URL, namespace, instance: "bench", log });
  await registry.start();
  const ours = registry.breaker({ caller: "bench", callee: "target" });

  const guards: [string, Guard][] = [
    ["unguarded call", (fn) => fn()],
    ["opossum (in-process)", (fn) => opossum.fire(fn)],
    [
      "Redis per call (baseline)",
      async (fn) => {
        const allowed = await redis.evalsha(perCallSha, 2, `${namespace}rpc:state`, `${namespace}rpc:counts`);
        if (allowed === 1) return fn();
      },
    ],
    ["ours (mirror + batches)", (fn) => ours.call(fn)],
  ];
  const rows: { name: string; concurrency: number; p50: number; p99: number; perSecond: number }[] = [];
  for (const concurrency of [1, 8] as const) {
    for (const [name, guard] of guards) {
      await measure(guard, concurrency); // warm-up
      const r = await step(`${name}, ${concurrency} concurrent`, () => measure(guard, concurrency));
      rows.push({ name, concurrency, ...r });
    }
  }

  // Propagation: an operator forces the pair; how long until every other instance acts on it.
  const others = await Promise.all(
    [1, 2, 3].map(async (i) => {
      const r = createBreakerRegistry({
        redisUrl: config.REDIS_URL,
        namespace,
        instance: `other-${i}`,
        log,
        rereadMs: 1000,
      });
      await r.start();
      return { registry: r, breaker: r.breaker({ caller: "bench", callee: "target" }) };
    }),
  );
  await new Promise((r) => setTimeout(r, 200));
  const store = createBreakerStore(redis, namespace);
  const lags: number[] = [];
  await step("200 forced changes seen by 3 other instances", async () => {
    for (let i = 0; i < 200; i++) {
      const forced = i % 2 === 0 ? "open" : null;
      const began = performance.now();
      await store.force("bench→target", forced, Date.now());
      while (!others.every((o) => o.breaker.state().forced === forced))
        await new Promise((r) => setImmediate(r));
      lags.push(performance.now() - began);
    }
  });
  lags.sort((a, b) => a - b);
  const lagAt = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] as number;

  for (const o of others) await o.registry.stop();
  await registry.stop();
  const keys = await redis.keys(`${namespace}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();

  const base = (c: number) =>
    rows.find((r) => r.concurrency === c && r.name === "unguarded call") as (typeof rows)[0];
  const opossumRow = (c: number) =>
    rows.find((r) => r.concurrency === c && r.name.startsWith("opossum")) as (typeof rows)[0];
  const fmt = (us: number) => `${us.toFixed(1).padStart(7)} µs`;
  console.log("\nbench:breaker (added latency = guarded call minus unguarded call, same run)");
  for (const r of rows) {
    const added50 = Math.max(0, r.p50 - base(r.concurrency).p50);
    const added99 = Math.max(0, r.p99 - base(r.concurrency).p99);
    const opossumAdded99 = Math.max(0, opossumRow(r.concurrency).p99 - base(r.concurrency).p99);
    const ratio =
      opossumAdded99 >= 0.5
        ? `${(added99 / opossumAdded99).toFixed(2)}× opossum's`
        : `opossum's: ${opossumAdded99.toFixed(1)} µs`;
    console.log(
      `  ${r.name.padEnd(27)} ×${r.concurrency}  call p50 ${fmt(r.p50)} p99 ${fmt(r.p99)}  added p50 ${fmt(added50)} p99 ${fmt(added99)}  ` +
        `${Math.round(r.perSecond).toString().padStart(8)} calls/s${r.name.startsWith("ours") ? `  (added p99 vs ${ratio})` : ""}`,
    );
  }
  console.log(
    `  forced state reaching 3 other instances: p50 ${lagAt(0.5).toFixed(2)} ms, p99 ${lagAt(0.99).toFixed(2)} ms ` +
      `(the 1 s re-read alone: ${(1000 / lagAt(0.99)).toFixed(0)}× slower at p99)`,
  );
  say("done");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:breaker failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
