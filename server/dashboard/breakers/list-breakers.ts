// The breakers page's data: every pair's live state, config and current window from Redis
// (the breakers' global cache), and its last transitions from the store; then the pairs
// known only from their events (breakers of other libraries, reported-pairs.ts).

import { effectiveForced, windowTotals } from "../../breakers/breaker-machine.ts";
import type { BreakerStore } from "../../breakers/index.ts";
import { parsePairId } from "../../breakers/index.ts";
import type { Pool } from "../../db/pool.ts";
import type { PrismaClient } from "../../db/prisma.ts";
import { postgresFailure, redisFailure } from "../../source-failure.ts";
import { readReportedPairs } from "./reported-pairs.ts";

export interface BreakerTransitionDto {
  time: Date;
  from: string;
  to: string;
  forced: string | null;
  reason: string;
  instance: string;
}

export interface BreakerDto {
  pair: string;
  caller: string;
  callee: string;
  operation: string | null;
  state: "closed" | "open" | "half_open";
  forced: "open" | "closed" | "disabled" | null;
  forcedUntil: Date | null;
  /** When the state last changed; null for a breaker that has not changed since it was first used. */
  since: Date | null;
  openUntil: Date | null;
  reason: string;
  window: { calls: number; failures: number; rejections: number; failureRate: number };
  /** The figures of the last evaluation (for an open breaker: those that opened it). */
  lastEvaluation: { calls: number; failures: number; failureRate: number };
  /** Its settings in Redis; null for a pair known only from its events (its library keeps them). */
  config: {
    failureRate: number;
    minimumCalls: number;
    windowMs: number;
    openMs: number;
    maxOpenMs: number;
    halfOpenPermits: number;
  } | null;
  /**
   * For a pair known only from its events: which instance reported last and when, and the
   * thresholds and window length its reports carried (null where they said nothing).
   */
  reported: {
    instance: string;
    at: Date;
    failureRate: number | null;
    minimumCalls: number | null;
    windowMs: number | null;
  } | null;
  trials: { taken: number; succeeded: number };
  transitions: BreakerTransitionDto[];
  /**
   * For a pair known only from its events: the operator's newest decision on the control
   * channel, and which of its reporting instances have applied it (reported the forced state
   * since) and which not yet. Null when no decision was published.
   */
  control: {
    forced: "open" | "closed" | "disabled" | null;
    forcedUntil: Date | null;
    requestedBy: string;
    at: Date;
    reason: string;
    acknowledgedBy: string[];
    waitingFor: string[];
  } | null;
}

export async function listBreakers(
  store: BreakerStore,
  db: { prisma: PrismaClient; pool: Pick<Pool, "query"> },
  now = Date.now(),
): Promise<BreakerDto[]> {
  const { prisma } = db;
  const live = await readLive(store);
  const pairs = live.map((l) => l.pair);
  const history = await prisma.breakerTransition
    .findMany({
      where: { pair: { in: pairs } },
      orderBy: { time: "desc" },
      take: Math.max(20, pairs.length * 5),
    })
    .catch((error) => {
      throw postgresFailure("the breakers' transitions", error);
    });
  const own = live.map(({ pair, snapshot, config, window }) => {
    const totals = windowTotals(window, config, now);
    const parsed = parsePairId(pair);
    const forced = effectiveForced(snapshot, now);
    return {
      pair,
      caller: parsed?.caller ?? pair,
      callee: parsed?.callee ?? "",
      operation: parsed?.operation ?? null,
      state: snapshot.state,
      forced,
      forcedUntil: forced && snapshot.forcedUntil ? new Date(snapshot.forcedUntil) : null,
      since: snapshot.since > 0 ? new Date(snapshot.since) : null,
      openUntil: snapshot.state === "open" ? new Date(snapshot.openUntil) : null,
      reason: snapshot.reason,
      window: {
        calls: totals.calls,
        failures: totals.failures,
        rejections: totals.rejections,
        failureRate: totals.calls > 0 ? totals.failures / totals.calls : 0,
      },
      lastEvaluation: {
        calls: snapshot.calls,
        failures: snapshot.failures,
        failureRate: snapshot.calls > 0 ? snapshot.failures / snapshot.calls : 0,
      },
      config: {
        failureRate: config.failureRate,
        minimumCalls: config.minimumCalls,
        windowMs: config.windowMs,
        openMs: config.openMs,
        maxOpenMs: config.maxOpenMs,
        halfOpenPermits: config.halfOpenPermits,
      },
      reported: null,
      control: null,
      trials: { taken: snapshot.trialsTaken, succeeded: snapshot.trialSuccesses },
      transitions: history
        .filter((t) => t.pair === pair)
        .slice(0, 5)
        .map((t) => ({
          time: t.time,
          from: t.fromState,
          to: t.toState,
          forced: t.forced,
          reason: t.reason,
          instance: t.instance,
        })),
    } satisfies BreakerDto;
  });
  const reported = await readReportedPairs(db.pool, pairs, now);
  return [...own, ...reported].sort((a, b) => a.pair.localeCompare(b.pair));
}

/** Every pair's state, settings and window from Redis, the breakers' global cache. */
async function readLive(store: BreakerStore) {
  try {
    const pairs = await store.listPairs();
    return await Promise.all(
      pairs.map(async (pair) => {
        const [snapshot, config, window] = await Promise.all([
          store.readState(pair),
          store.readConfig(pair),
          store.readWindow(pair),
        ]);
        return { pair, snapshot, config, window };
      }),
    );
  } catch (error) {
    throw redisFailure("the breakers' live state", error);
  }
}
