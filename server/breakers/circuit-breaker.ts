// Circuit breakers for one caller process, one per caller→callee pair, sharing their state
// with every other instance through Redis. The call path never waits on Redis while a
// breaker is closed or open: it decides from a local mirror of the pair's state and config,
// kept current by pub/sub (and re-read every second as a safety net), and outcomes are
// recorded in batches (every few ms or N outcomes) by a Lua script that also performs any
// transition atomically and announces it. Only half-open trial permits are taken from Redis
// synchronously, so the quota holds across instances. Without Redis, each instance goes on
// alone with the same rules on its own outcomes, and defers to Redis again when it returns.
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type BreakerConfig, type BreakerPair, DEFAULT_BREAKER_CONFIG, pairId } from "./breaker-config.ts";
import {
  acquireTrial,
  type BreakerSnapshot,
  decide,
  effectiveForced,
  initialSnapshot,
  recordOutcomes,
  reportTrial,
  type Transition,
  type WindowCounts,
} from "./breaker-machine.ts";
import { createBreakerStore, type StoreStep } from "./breaker-store.ts";
import { type Classifier, defaultClassifier, type Outcome } from "./classify.ts";

/** A call refused by an open (or forced open) breaker, at once, without touching the callee. */
export class BreakerOpenError extends AppError {
  override name = "BreakerOpenError";
  constructor(
    readonly pair: string,
    readonly snapshot: BreakerSnapshot,
    readonly retryAfterMs: number,
  ) {
    const forced = effectiveForced(snapshot, Date.now());
    super(
      "UNAVAILABLE",
      `breaker ${pair} is ${forced ? `forced ${forced}` : snapshot.state}: ${snapshot.reason}`,
    );
  }
}

/** A call through the breaker that took longer than its time limit (it counts as a failure). */
export class BreakerTimeoutError extends AppError {
  override name = "BreakerTimeoutError";
  constructor(
    readonly pair: string,
    readonly timeoutMs: number,
  ) {
    super("UNAVAILABLE", `call ${pair} took longer than ${timeoutMs} ms`);
  }
}

/** `work`, or `timedOut()` thrown once `ms` have passed (the work itself runs on). */
function within<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface PairStats {
  pair: string;
  instance: string;
  from: Date;
  to: Date;
  state: BreakerSnapshot["state"];
  forced: BreakerSnapshot["forced"];
  calls: number;
  successes: number;
  business: number;
  failures: number;
  rejections: number;
  trials: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

export interface TransitionNotice {
  pair: string;
  transition: Transition;
  snapshot: BreakerSnapshot;
  config: BreakerConfig;
}

export interface BreakerRegistryOptions {
  redisUrl: string;
  /** Prefix of every key and channel (the test suite keeps its runs apart with it). */
  namespace: string;
  /** This process's name, on its stats. */
  instance: string;
  log: Logger;
  /** Outcomes are sent to Redis at least this often (ms)… */
  flushMs?: number;
  /** …or as soon as this many are waiting. */
  flushAt?: number;
  /** Safety net: every mirror is re-read this often even without announcements. */
  rereadMs?: number;
  /** A trial permit that takes longer than this is decided locally (Redis counts as away). */
  redisTimeoutMs?: number;
  statsEveryMs?: number;
  /** A transition this instance performed (exactly one instance reports each). */
  onTransition?: (notice: TransitionNotice) => void;
  onStats?: (stats: PairStats) => void;
}

export interface Breaker {
  readonly pair: string;
  /**
   * Runs `work` unless the breaker refuses it. With `timeoutMs`, a call slower than that
   * stops being waited for: it counts as a failure and throws BreakerTimeoutError (the work
   * itself runs on). A disabled breaker does nothing at all, time limit included.
   */
  call<T>(work: () => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  state(): BreakerSnapshot;
  config(): BreakerConfig;
}

export interface BreakerRegistry {
  start(): Promise<void>;
  stop(): Promise<void>;
  breaker(pair: BreakerPair, options?: { classify?: Classifier }): Breaker;
  /** True while Redis is away and each breaker runs on this instance's outcomes alone. */
  degraded(): boolean;
}

interface Mirror {
  id: string;
  snapshot: BreakerSnapshot;
  config: BreakerConfig;
  /** The window this instance keeps only while Redis is away. */
  localWindow: WindowCounts;
  pending: { calls: number; failures: number; rejections: number };
  classify: Classifier;
  stats: {
    from: number;
    calls: number;
    successes: number;
    business: number;
    failures: number;
    rejections: number;
    trials: number;
    latencies: number[];
  };
  breaker: Breaker;
}

const MAX_LATENCY_SAMPLES = 20_000;
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

export function createBreakerRegistry(options: BreakerRegistryOptions): BreakerRegistry {
  const { log } = options;
  const flushMs = options.flushMs ?? 5;
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
  const timers: NodeJS.Timeout[] = [];

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

  async function takeTrial(m: Mirror): Promise<boolean> {
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
  }

  async function reportTrialOutcome(m: Mirror, ok: boolean) {
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
  }

  function reportStats() {
    const now = Date.now();
    for (const m of mirrors.values()) {
      const s = m.stats;
      if (s.calls === 0 && s.rejections === 0) {
        s.from = now;
        continue;
      }
      const sorted = [...s.latencies].sort((a, b) => a - b);
      const round = (x: number) => Math.round(x * 1000) / 1000;
      options.onStats?.({
        pair: m.id,
        instance: options.instance,
        from: new Date(s.from),
        to: new Date(now),
        state: m.snapshot.state,
        forced: effectiveForced(m.snapshot, now),
        calls: s.calls,
        successes: s.successes,
        business: s.business,
        failures: s.failures,
        rejections: s.rejections,
        trials: s.trials,
        latencyMs: {
          p50: round(percentile(sorted, 50)),
          p95: round(percentile(sorted, 95)),
          p99: round(percentile(sorted, 99)),
          max: round(sorted.at(-1) ?? 0),
        },
      });
      m.stats = {
        from: now,
        calls: 0,
        successes: 0,
        business: 0,
        failures: 0,
        rejections: 0,
        trials: 0,
        latencies: [],
      };
    }
  }

  function createMirror(id: string, classify: Classifier): Mirror {
    const m: Mirror = {
      id,
      snapshot: initialSnapshot(Date.now()),
      config: DEFAULT_BREAKER_CONFIG,
      localWindow: {},
      pending: { calls: 0, failures: 0, rejections: 0 },
      classify,
      stats: {
        from: Date.now(),
        calls: 0,
        successes: 0,
        business: 0,
        failures: 0,
        rejections: 0,
        trials: 0,
        latencies: [],
      },
      breaker: undefined as unknown as Breaker,
    };
    const reject = (): never => {
      m.stats.rejections += 1;
      m.pending.rejections += 1;
      throw new BreakerOpenError(id, m.snapshot, Math.max(0, m.snapshot.openUntil - Date.now()));
    };
    m.breaker = {
      pair: id,
      state: () => m.snapshot,
      config: () => m.config,
      async call<T>(work: () => Promise<T>, callOptions?: { timeoutMs?: number }): Promise<T> {
        const now = Date.now();
        const forced = effectiveForced(m.snapshot, now);
        const decision = decide(m.snapshot, now);
        if (decision === "reject") reject();
        let trial = false;
        if (decision === "trial") {
          if (!(await takeTrial(m))) reject();
          trial = m.snapshot.state === "half_open";
          if (trial) m.stats.trials += 1;
        }
        const began = performance.now();
        let outcome: Outcome = "success";
        try {
          const limit = forced === "disabled" ? undefined : callOptions?.timeoutMs;
          return await (limit ? within(work(), limit, () => new BreakerTimeoutError(id, limit)) : work());
        } catch (error) {
          outcome = m.classify(error);
          throw error;
        } finally {
          const s = m.stats;
          if (s.latencies.length < MAX_LATENCY_SAMPLES) s.latencies.push(performance.now() - began);
          s.calls += 1;
          if (outcome === "success") s.successes += 1;
          else if (outcome === "business") s.business += 1;
          else s.failures += 1;
          if (trial) void reportTrialOutcome(m, outcome !== "failure");
          else if (forced !== "disabled") {
            m.pending.calls += 1;
            if (outcome === "failure") m.pending.failures += 1;
            if (m.pending.calls >= flushAt) void flush();
          }
        }
      },
    };
    return m;
  }

  const onAnnouncement = (_channel: string, message: string) => {
    const cut = message.lastIndexOf("|");
    const m = mirrors.get(message.slice(0, cut));
    if (!m || !redisUp) return;
    const what = message.slice(cut + 1);
    if (what !== "config" && Number(what) <= m.snapshot.version) return;
    void reread(m, what === "config").catch(wentAway);
  };

  return {
    degraded: () => !redisUp,
    breaker(pair, opts) {
      const id = pairId(pair);
      let m = mirrors.get(id);
      if (!m) {
        m = createMirror(id, opts?.classify ?? defaultClassifier);
        mirrors.set(id, m);
        const mirror = m;
        if (redisUp) void Promise.all([store.register(id), reread(mirror)]).catch(wentAway);
      }
      return m.breaker;
    },
    async start() {
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
      timers.push(setInterval(() => void flush(), flushMs));
      timers.push(setInterval(() => void rereadAll(), options.rereadMs ?? 1000));
      timers.push(setInterval(reportStats, options.statsEveryMs ?? 10_000));
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
      await flush().catch(() => {});
      reportStats();
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
