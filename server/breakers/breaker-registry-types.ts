// The public face of a caller's breakers: the registry's options, a breaker as a caller
// uses it, and the transitions a registry reports.

import type { BreakerConfig, BreakerPair } from "../../browser-safe/breaker-config.ts";
import type { Logger } from "../log.ts";
import type { PairStats } from "./breaker-call-stats.ts";
import type { BreakerSnapshot, Transition } from "./breaker-machine.ts";
import type { Classifier } from "./classify.ts";

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
