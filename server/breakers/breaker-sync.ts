// The shared side of a caller's breakers: two Redis connections (commands, announcements),
// outcomes sent in batches by a Lua script that performs any transition, trial permits taken
// from Redis, and every mirror kept current by announcements (re-read every second as a
// safety net). While Redis is away, each mirror goes on with the same rules on this
// instance's outcomes alone; when it returns, Redis's state wins.
import { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import { within } from "./breaker-errors.ts";
import { acquireTrial, type BreakerSnapshot, recordOutcomes, reportTrial } from "./breaker-machine.ts";
import type { Mirror, MirrorSync } from "./breaker-mirror.ts";
import type { BreakerRegistryOptions } from "./breaker-registry-types.ts";
import { createBreakerStore, type StoreStep } from "./breaker-store.ts";

export function createBreakerSync(options: BreakerRegistryOptions) {
  const { log } = options;
  const flushAt = options.flushAt ?? 50;
  const redisTimeoutMs = options.redisTimeoutMs ?? 100;
  // Commands fail at once while Redis is away (no offline queue): a call never waits for it.
  const connection = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => 500,
  };
  const redis = new Redis(options.redisUrl, connection);
  const subscriber = new Redis(options.redisUrl, { ...connection, enableOfflineQueue: true });
  const store = createBreakerStore(redis, options.namespace, log);
  const mirrors = new Map<string, Mirror>();
  let redisUp = false;
  let flushing = false;

  function apply(m: Mirror, snapshot: BreakerSnapshot) {
    if (snapshot.version >= m.snapshot.version) m.snapshot = snapshot;
  }

  function noticed(m: Mirror, step: StoreStep) {
    apply(m, step.snapshot);
    if (step.transition) {
      log.info("breaker changed state", {
        pair: m.id,
        from: step.transition.from,
        to: step.transition.to,
        reason: step.transition.reason,
      });
      options.onTransition?.({
        pair: m.id,
        transition: step.transition,
        snapshot: step.snapshot,
        config: m.config,
      });
    }
  }

  function wentAway(error: unknown) {
    if (redisUp)
      log.warn("Redis is away: breakers go on from local state", { error: (error as Error)?.message });
    redisUp = false;
  }

  /** `adopt`: take Redis's state even if it looks older (after an outage, Redis wins). */
  async function reread(m: Mirror, withConfig = true, adopt = false) {
    const [snapshot, config] = await Promise.all([
      store.readState(m.id),
      withConfig ? store.readConfig(m.id) : m.config,
    ]);
    m.config = config;
    if (adopt) m.snapshot = snapshot;
    else apply(m, snapshot);
  }

  async function rereadAll() {
    if (!redisUp) return;
    await Promise.all([...mirrors.values()].map((m) => reread(m))).catch(wentAway);
  }

  /** Local rules on this instance's own outcomes, while Redis is away. */
  function recordLocally(m: Mirror, calls: number, failures: number) {
    const step = recordOutcomes(m.snapshot, m.localWindow, m.config, { calls, failures, now: Date.now() });
    m.snapshot = step.snapshot;
    m.localWindow = step.window;
    if (step.transition)
      log.warn("breaker changed state locally (Redis away)", { pair: m.id, to: step.transition.to });
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      const due = [...mirrors.values()].filter((m) => m.pending.calls > 0 || m.pending.rejections > 0);
      await Promise.all(
        due.map(async (m) => {
          const { calls, failures, rejections } = m.pending;
          m.pending = { calls: 0, failures: 0, rejections: 0 };
          if (!redisUp) return recordLocally(m, calls, failures);
          try {
            noticed(m, await store.record(m.id, m.config, { calls, failures, rejections, now: Date.now() }));
          } catch (error) {
            wentAway(error);
            recordLocally(m, calls, failures);
          }
        }),
      );
    } finally {
      flushing = false;
    }
  }

  const mirrorSync: MirrorSync = {
    async takeTrial(m) {
      if (redisUp) {
        try {
          const step = await within(
            store.acquireTrial(m.id, m.config, Date.now()),
            redisTimeoutMs,
            () => new AppError("UNAVAILABLE", `Redis did not answer within ${redisTimeoutMs} ms`),
          );
          noticed(m, step);
          return step.granted === true;
        } catch (error) {
          wentAway(error);
        }
      }
      const step = acquireTrial(m.snapshot, m.localWindow, m.config, Date.now());
      m.snapshot = step.snapshot;
      return step.granted;
    },

    async reportTrialOutcome(m, ok) {
      if (redisUp) {
        try {
          noticed(m, await store.reportTrial(m.id, m.config, ok, Date.now()));
          return;
        } catch (error) {
          wentAway(error);
        }
      }
      const step = reportTrial(m.snapshot, m.localWindow, m.config, { ok, now: Date.now() });
      m.snapshot = step.snapshot;
      m.localWindow = step.window;
    },

    outcomesPending(m) {
      if (m.pending.calls >= flushAt) void flush();
    },
  };

  const onAnnouncement = (_channel: string, message: string) => {
    const cut = message.lastIndexOf("|");
    const m = mirrors.get(message.slice(0, cut));
    if (!m || !redisUp) return;
    const what = message.slice(cut + 1);
    if (what !== "config" && Number(what) <= m.snapshot.version) return;
    void reread(m, what === "config").catch(wentAway);
  };

  return {
    mirrors,
    mirrorSync,
    flush,
    rereadAll,
    degraded: () => !redisUp,

    /** A new mirror: registered, and its state and config read, once Redis is there. */
    add(m: Mirror) {
      mirrors.set(m.id, m);
      if (redisUp) void Promise.all([store.register(m.id), reread(m)]).catch(wentAway);
    },

    async connect() {
      redis.on("ready", () => {
        const wasAway = !redisUp;
        redisUp = true;
        // Redis is back: its shared state wins over what this instance decided alone.
        if (wasAway) {
          for (const m of mirrors.values()) m.localWindow = {};
          void Promise.all(
            [...mirrors.values()].map(async (m) => {
              await store.register(m.id);
              await reread(m, true, true);
            }),
          ).catch(wentAway);
        }
      });
      redis.on("close", () => wentAway(new AppError("UNAVAILABLE", "connection closed")));
      redis.on("error", () => {});
      subscriber.on("error", () => {});
      subscriber.on("message", onAnnouncement);
      try {
        await Promise.all([redis.connect(), subscriber.connect()]);
        await subscriber.subscribe(store.channel);
      } catch (error) {
        // Callers must not depend on Redis to start: they begin alone and catch up later.
        wentAway(error);
      }
    },

    disconnect() {
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
