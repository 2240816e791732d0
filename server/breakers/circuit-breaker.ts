// Circuit breakers for one caller process, one per caller→callee pair, sharing their state
// with every other instance through Redis. The call path never waits on Redis while a
// breaker is closed or open: it decides from a local mirror of the pair's state and config
// (breaker-mirror.ts), kept current by pub/sub and re-read every second as a safety net;
// outcomes are recorded in batches (every few ms or N outcomes) by a Lua script that also
// performs any transition atomically and announces it (breaker-sync.ts). Only half-open
// trial permits are taken from Redis synchronously, so the quota holds across instances.
// Without Redis, each instance goes on alone with the same rules on its own outcomes, and
// defers to Redis again when it returns. Each period, every pair's figures are reported.

import { pairId } from "../../browser-safe/breaker-config.ts";
import { emptyCallStats, pairStats } from "./breaker-call-stats.ts";
import { createMirror } from "./breaker-mirror.ts";
import type { BreakerRegistry, BreakerRegistryOptions } from "./breaker-registry-types.ts";
import { createBreakerSync } from "./breaker-sync.ts";
import { defaultClassifier } from "./classify.ts";

export type { PairStats } from "./breaker-call-stats.ts";
export { BreakerOpenError, BreakerTimeoutError } from "./breaker-errors.ts";
export type {
  Breaker,
  BreakerRegistry,
  BreakerRegistryOptions,
  TransitionNotice,
} from "./breaker-registry-types.ts";

export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  const sync = createBreakerSync(options);
  const timers: NodeJS.Timeout[] = [];

  function reportStats() {
    const now = Date.now();
    for (const m of sync.mirrors.values()) {
      const stats = pairStats(m.id, options.instance, m.stats, m.snapshot, now);
      if (stats) options.onStats?.(stats);
      m.stats = emptyCallStats(now);
    }
  }

  return {
    degraded: sync.degraded,
    breaker(pair, opts) {
      const id = pairId(pair);
      let m = sync.mirrors.get(id);
      if (!m) {
        m = createMirror(id, opts?.classify ?? defaultClassifier, sync.mirrorSync);
        sync.add(m);
      }
      return m.breaker;
    },
    async start() {
      await sync.connect();
      timers.push(setInterval(() => void sync.flush(), options.flushMs ?? 5));
      timers.push(setInterval(() => void sync.rereadAll(), options.rereadMs ?? 1000));
      timers.push(setInterval(reportStats, options.statsEveryMs ?? 10_000));
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      await sync.flush().catch(() => {});
      reportStats();
      sync.disconnect();
    },
  };
}
