// Operator actions on a breaker pair: force open or closed (for a while, or until cleared),
// clear the override, reset the counters, change the thresholds. Each writes the pair's
// state or config in Redis (every caller instance follows within milliseconds) and
// announces the override as a breaker.state_changed event, so it is on the pair's history.
import type { Producer } from "kafkajs";
import { z } from "zod";
import { type BreakerConfig, BreakerConfigSchema, parsePairId } from "../breakers/breaker-config.ts";
import { type BreakerSnapshot, effectiveForced } from "../breakers/breaker-machine.ts";
import type { BreakerStore } from "../breakers/index.ts";
import { AppError } from "../errors.ts";
import { breakerEvent, encodeBreakerEvent, topics } from "../events/index.ts";
import { type Thresholds, ThresholdsSchema } from "./breaker-thresholds.ts";
import type { Outcome } from "./perform-action.ts";

const pair = z
  .string()
  .min(3)
  .max(300)
  .refine((p) => parsePairId(p) !== undefined, "a pair is written caller→callee");

export const BreakerOverrideSchema = z.object({
  pair,
  op: z.enum(["force-open", "force-closed", "clear", "reset"]),
  /** How long a forced state lasts; none: until cleared. */
  forMinutes: z
    .number()
    .int()
    .min(1, "at least a minute")
    .max(7 * 24 * 60, "at most a week")
    .optional(),
  reason: z.string().trim().max(500).optional(),
  idempotencyKey: z.string().min(8).max(200),
});
export type BreakerOverride = z.infer<typeof BreakerOverrideSchema>;

/** The thresholds an admin may change, each with its limits (the breaker's own schema). */
export { type Thresholds, ThresholdsSchema } from "./breaker-thresholds.ts";

export const BreakerConfigInputSchema = z.object({
  pair,
  thresholds: ThresholdsSchema,
  idempotencyKey: z.string().min(8).max(200),
});

/** The proposal merged with what it leaves alone, checked as the breaker checks it. */
export function mergedConfig(current: BreakerConfig, thresholds: Thresholds): BreakerConfig {
  const parsed = BreakerConfigSchema.safeParse({
    ...current,
    ...thresholds,
    maxOpenMs: Math.max(current.maxOpenMs, thresholds.openMs),
  });
  if (!parsed.success)
    throw new AppError(
      "BAD_REQUEST",
      parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  return parsed.data;
}

const shown = (s: BreakerSnapshot, now: number) => effectiveForced(s, now) ?? s.state;

async function announce(
  producer: Producer,
  topicPrefix: string,
  pairId: string,
  before: BreakerSnapshot,
  after: BreakerSnapshot,
  config: BreakerConfig,
  reason: string,
  now: number,
) {
  const p = parsePairId(pairId);
  const effective = (s: BreakerSnapshot) => {
    const f = effectiveForced(s, now);
    return f === "open" ? "open" : f ? "closed" : s.state;
  };
  await producer.send({
    topic: topics(topicPrefix).breakerEvents,
    messages: [
      encodeBreakerEvent(
        breakerEvent(
          "io.sagascope.breaker.state_changed",
          {
            pair: pairId,
            caller: p?.caller ?? "?",
            callee: p?.callee ?? "?",
            ...(p?.operation ? { operation: p.operation } : {}),
            instance: "sagascope-dashboard",
            from: effective(before),
            to: effective(after),
            forced: effectiveForced(after, now),
            reason,
            calls: after.calls,
            failures: after.failures,
            failureRateThreshold: config.failureRate,
            minimumCalls: config.minimumCalls,
          },
          { source: "/sagascope/dashboard", time: new Date(now) },
        ),
      ),
    ],
  });
}

export async function overrideBreaker(
  store: BreakerStore,
  producer: Producer,
  topicPrefix: string,
  input: BreakerOverride,
  actor: string,
  now = Date.now(),
): Promise<Outcome> {
  const before = await store.readState(input.pair);
  const config = await store.readConfig(input.pair);
  const why = input.reason ? `: ${input.reason}` : "";
  const until = input.forMinutes ? now + input.forMinutes * 60_000 : 0;
  const forUntil = until ? ` until ${new Date(until).toISOString()}` : " until cleared";
  let message: string;
  if (input.op === "reset") {
    await store.reset(input.pair, now);
    message = `counters of ${input.pair} reset by ${actor}${why}`;
  } else if (input.op === "clear") {
    await store.force(input.pair, null, now);
    message = `override of ${input.pair} cleared by ${actor}${why}`;
  } else {
    const state = input.op === "force-open" ? "open" : "closed";
    await store.force(input.pair, state, now, until);
    message = `${input.pair} forced ${state}${forUntil} by ${actor}${why}`;
  }
  const after = await store.readState(input.pair);
  await announce(producer, topicPrefix, input.pair, before, after, config, message, now);
  return { phase: "done", message: `${message} (was ${shown(before, now)}, now ${shown(after, now)})` };
}

export async function configureBreaker(
  store: BreakerStore,
  input: z.infer<typeof BreakerConfigInputSchema>,
): Promise<Outcome> {
  const before = await store.readConfig(input.pair);
  const after = await store.setConfig(input.pair, mergedConfig(before, input.thresholds));
  const changed = (Object.keys(input.thresholds) as (keyof Thresholds)[])
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k} ${before[k]} → ${after[k]}`);
  return {
    phase: "done",
    message: changed.length ? `${input.pair}: ${changed.join(", ")}` : `${input.pair}: nothing changed`,
  };
}
