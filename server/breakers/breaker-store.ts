// The breakers' shared state in Redis (the global cache): per pair a config hash, a state
// hash and a window hash under one hash tag, transitions by Lua (breaker-lua.ts), changes
// announced on one channel. Any process (callers, the dashboard, an operator's tool) uses this.
import type { Redis } from "ioredis";
import {
  type BreakerConfig,
  BreakerConfigSchema,
  DEFAULT_BREAKER_CONFIG,
  type ForcedState,
} from "../../browser-safe/breaker-config.ts";
import type { Logger } from "../log.ts";
import { ACQUIRE_TRIAL_LUA, FORCE_LUA, RECORD_LUA, REPORT_TRIAL_LUA, RESET_LUA } from "./breaker-lua.ts";
import { type BreakerSnapshot, initialSnapshot, type Transition } from "./breaker-machine.ts";

export interface StoreStep {
  snapshot: BreakerSnapshot;
  transition?: Transition;
  granted?: boolean;
}

type ScriptResult = [string, number, string[]];
interface BreakerCommands {
  breakerRecord(k1: string, k2: string, ...argv: (string | number)[]): Promise<ScriptResult>;
  breakerAcquire(k1: string, k2: string, ...argv: (string | number)[]): Promise<ScriptResult>;
  breakerReport(k1: string, k2: string, ...argv: (string | number)[]): Promise<ScriptResult>;
  breakerForce(k1: string, k2: string, ...argv: (string | number)[]): Promise<ScriptResult>;
  breakerReset(k1: string, k2: string, ...argv: (string | number)[]): Promise<ScriptResult>;
}

const NUMERIC: (keyof BreakerSnapshot)[] = [
  "since",
  "openUntil",
  "opens",
  "trialsTaken",
  "trialSuccesses",
  "forcedUntil",
  "version",
  "calls",
  "failures",
  "rejections",
];

/** A state hash (as HGETALL gives it) as a snapshot; missing fields take the new breaker's values. */
export function snapshotFrom(fields: Record<string, string>): BreakerSnapshot {
  const s: BreakerSnapshot = initialSnapshot();
  const state = fields.state;
  if (state === "closed" || state === "open" || state === "half_open") s.state = state;
  const forced = fields.forced;
  s.forced = forced === "open" || forced === "closed" || forced === "disabled" ? forced : null;
  if (fields.reason !== undefined) s.reason = fields.reason;
  for (const key of NUMERIC) {
    const value = Number(fields[key]);
    if (fields[key] !== undefined && Number.isFinite(value))
      (s as unknown as Record<string, number>)[key] = value;
  }
  return s;
}

const pairsOf = (flat: string[]) => {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
};

export function createBreakerStore(redis: Redis, namespace: string, log?: Logger) {
  const r = redis as Redis & BreakerCommands;
  const defs = {
    breakerRecord: RECORD_LUA,
    breakerAcquire: ACQUIRE_TRIAL_LUA,
    breakerReport: REPORT_TRIAL_LUA,
    breakerForce: FORCE_LUA,
    breakerReset: RESET_LUA,
  };
  for (const [name, lua] of Object.entries(defs)) {
    if (!(name in r)) redis.defineCommand(name, { numberOfKeys: 2, lua });
  }
  const base = `${namespace}sagascope:breaker`;
  const keys = (pair: string) => ({
    state: `${base}:{${pair}}:state`,
    window: `${base}:{${pair}}:window`,
    config: `${base}:{${pair}}:config`,
  });
  const channel = `${base}:changes`;
  const pairsKey = `${base}:pairs`;
  const argv = (pair: string, config: BreakerConfig, now: number) => [
    now,
    config.failureRate,
    config.minimumCalls,
    config.windowMs,
    config.openMs,
    config.maxOpenMs,
    config.halfOpenPermits,
    pair,
    channel,
  ];
  const step = ([from, granted, fields]: ScriptResult, now: number): StoreStep => {
    const snapshot = snapshotFrom(pairsOf(fields));
    return {
      snapshot,
      granted: granted === 1,
      ...(from
        ? {
            transition: {
              from: from as Transition["from"],
              to: snapshot.state,
              at: now,
              reason: snapshot.reason,
              calls: snapshot.calls,
              failures: snapshot.failures,
            },
          }
        : {}),
    };
  };

  return {
    channel,
    keys,

    async register(pair: string) {
      await redis.sadd(pairsKey, pair);
    },
    /** Whether a breaker of Sagascope's own (its state in this Redis) has used the pair. */
    async knows(pair: string): Promise<boolean> {
      return (await redis.sismember(pairsKey, pair)) === 1;
    },
    async listPairs(): Promise<string[]> {
      return (await redis.smembers(pairsKey)).sort();
    },

    async readConfig(pair: string): Promise<BreakerConfig> {
      const raw = await redis.hgetall(keys(pair).config);
      const parsed = BreakerConfigSchema.safeParse(raw);
      if (parsed.success) return parsed.data;
      log?.warn("invalid breaker config in Redis; using the defaults", {
        pair,
        problem: parsed.error.issues[0]?.message,
      });
      return DEFAULT_BREAKER_CONFIG;
    },
    async readWindow(pair: string): Promise<Record<string, number>> {
      const raw = await redis.hgetall(keys(pair).window);
      return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
    },
    async readState(pair: string): Promise<BreakerSnapshot> {
      return snapshotFrom(await redis.hgetall(keys(pair).state));
    },

    /** Validates the merged config, writes it and announces it. */
    async setConfig(pair: string, change: Partial<BreakerConfig>): Promise<BreakerConfig> {
      const merged = BreakerConfigSchema.parse({ ...(await this.readConfig(pair)), ...change });
      await redis
        .multi()
        .hset(keys(pair).config, Object.fromEntries(Object.entries(merged).map(([k, v]) => [k, String(v)])))
        .sadd(pairsKey, pair)
        .publish(channel, `${pair}|config`)
        .exec();
      return merged;
    },

    async record(
      pair: string,
      config: BreakerConfig,
      batch: { calls: number; failures: number; rejections?: number; now: number },
    ) {
      const { state, window } = keys(pair);
      const result = await r.breakerRecord(
        state,
        window,
        ...argv(pair, config, batch.now),
        batch.calls,
        batch.failures,
        batch.rejections ?? 0,
      );
      return step(result, batch.now);
    },
    async acquireTrial(pair: string, config: BreakerConfig, now: number) {
      const { state, window } = keys(pair);
      return step(await r.breakerAcquire(state, window, ...argv(pair, config, now)), now);
    },
    async reportTrial(pair: string, config: BreakerConfig, ok: boolean, now: number) {
      const { state, window } = keys(pair);
      return step(await r.breakerReport(state, window, ...argv(pair, config, now), ok ? "1" : "0"), now);
    },
    async force(pair: string, forced: ForcedState | null, now: number, untilMs = 0) {
      const { state, window } = keys(pair);
      const config = await this.readConfig(pair);
      await redis.sadd(pairsKey, pair);
      return step(
        await r.breakerForce(state, window, ...argv(pair, config, now), forced ?? "", untilMs),
        now,
      );
    },
    async reset(pair: string, now: number) {
      const { state, window } = keys(pair);
      const config = await this.readConfig(pair);
      return step(await r.breakerReset(state, window, ...argv(pair, config, now)), now);
    },
  };
}

export type BreakerStore = ReturnType<typeof createBreakerStore>;
