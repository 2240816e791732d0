// One pair's breaker as this instance holds it: a local mirror of the shared state and
// config, which the call path decides from without waiting on Redis, and the outcomes and
// figures it gathers until they are sent. Only a half-open trial asks the shared state.
import { performance } from "node:perf_hooks";
import { type BreakerConfig, DEFAULT_BREAKER_CONFIG } from "../../browser-safe/breaker-config.ts";
import { type CallStats, countCall, emptyCallStats } from "./breaker-call-stats.ts";
import { BreakerOpenError, BreakerTimeoutError, within } from "./breaker-errors.ts";
import {
  type BreakerSnapshot,
  decide,
  effectiveForced,
  initialSnapshot,
  type WindowCounts,
} from "./breaker-machine.ts";
import type { Breaker } from "./breaker-registry-types.ts";
import type { Classifier, Outcome } from "./classify.ts";

export interface Mirror {
  id: string;
  snapshot: BreakerSnapshot;
  config: BreakerConfig;
  /** The window this instance keeps only while Redis is away. */
  localWindow: WindowCounts;
  /** Outcomes not yet sent to the shared state. */
  pending: { calls: number; failures: number; rejections: number };
  classify: Classifier;
  stats: CallStats;
  breaker: Breaker;
}

/** What the call path needs of the shared state. */
export interface MirrorSync {
  takeTrial(m: Mirror): Promise<boolean>;
  reportTrialOutcome(m: Mirror, ok: boolean): Promise<void>;
  /** Called once more outcomes are pending: sends them if enough are waiting. */
  outcomesPending(m: Mirror): void;
}

export function createMirror(id: string, classify: Classifier, sync: MirrorSync): Mirror {
  const m: Mirror = {
    id,
    snapshot: initialSnapshot(Date.now()),
    config: DEFAULT_BREAKER_CONFIG,
    localWindow: {},
    pending: { calls: 0, failures: 0, rejections: 0 },
    classify,
    stats: emptyCallStats(Date.now()),
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
        if (!(await sync.takeTrial(m))) reject();
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
        countCall(m.stats, performance.now() - began, outcome);
        if (trial) void sync.reportTrialOutcome(m, outcome !== "failure");
        else if (forced !== "disabled") {
          m.pending.calls += 1;
          if (outcome === "failure") m.pending.failures += 1;
          sync.outcomesPending(m);
        }
      }
    },
  };
  return m;
}
