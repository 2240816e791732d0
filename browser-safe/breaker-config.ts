// A breaker's settings per caller→callee pair (read from Redis, changeable while the fleet
// runs), and the names that identify a pair.
import { z } from "zod";

export const BreakerConfigSchema = z
  .object({
    /** Open when failures / calls over the window reach this share (0..1). */
    failureRate: z.coerce.number().gt(0).max(1).default(0.5),
    /** …and at least this many calls were made in the window. */
    minimumCalls: z.coerce.number().int().min(1).max(1_000_000).default(10),
    /** The sliding window, counted in ten buckets. */
    windowMs: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
    /** How long the breaker stays open before it lets trial calls through. */
    openMs: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
    /** Each consecutive opening doubles the open time, up to this. */
    maxOpenMs: z.coerce.number().int().min(10).max(86_400_000).default(60_000),
    /** Trial calls let through while half-open; that many successes close it. */
    halfOpenPermits: z.coerce.number().int().min(1).max(1000).default(3),
  })
  .refine((c) => c.maxOpenMs >= c.openMs, {
    message: "maxOpenMs must be at least openMs",
    path: ["maxOpenMs"],
  });
export type BreakerConfig = z.infer<typeof BreakerConfigSchema>;
export const DEFAULT_BREAKER_CONFIG: BreakerConfig = BreakerConfigSchema.parse({});

export const FORCED_STATES = ["open", "closed", "disabled"] as const;
export type ForcedState = (typeof FORCED_STATES)[number];

export interface BreakerPair {
  caller: string;
  callee: string;
  /** Optional: one breaker per operation of the callee. */
  operation?: string;
}

const part = /^[A-Za-z0-9_.:-]{1,100}$/;

/** "caller→callee" or "caller→callee/operation": the Kafka key and the Redis hash tag of a pair. */
export function pairId(pair: BreakerPair): string {
  for (const p of [pair.caller, pair.callee, pair.operation ?? "x"]) {
    if (!part.test(p)) throw new RangeError(`invalid breaker pair part "${p}"`);
  }
  return `${pair.caller}→${pair.callee}${pair.operation ? `/${pair.operation}` : ""}`;
}

export function parsePairId(id: string): BreakerPair | undefined {
  const m = /^([^→/]+)→([^→/]+)(?:\/(.+))?$/.exec(id);
  if (!m) return undefined;
  return { caller: m[1] as string, callee: m[2] as string, ...(m[3] ? { operation: m[3] } : {}) };
}
