// Operator actions on a breaker pair: force open or closed (for a while, or until cleared),
// clear the override, reset the counters, change the thresholds. Each writes the pair's
// state or config in Redis (every caller instance of Sagascope's own breaker follows within
// milliseconds), announces the override as a breaker.state_changed event, so it is on the
// pair's history, and publishes the whole decision on the compacted control topic, which
// breakers of other libraries obey through their bridges.
import type { Producer } from "kafkajs";
import { z } from "zod";
import { type BreakerConfig, BreakerConfigSchema, parsePairId } from "../../browser-safe/breaker-config.ts";
import { type Thresholds, ThresholdsSchema } from "../../browser-safe/breaker-thresholds.ts";
import { type BreakerSnapshot, effectiveForced } from "../breakers/breaker-machine.ts";
import type { BreakerStore } from "../breakers/index.ts";
import type { Pool } from "../db/pool.ts";
import { AppError } from "../errors.ts";
import { breakerEvent, encodeBreakerControl, encodeBreakerEvent, topics } from "../events/index.ts";
import type { Acting } from "./acting.ts";
import { type ActionStatus, type Outcome, performAction } from "./perform-action.ts";

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
export { type Thresholds, ThresholdsSchema } from "../../browser-safe/breaker-thresholds.ts";

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

/** Publishes the pair's whole current decision (forced state, expiry, thresholds) on the control topic. */
export async function publishControl(
  store: BreakerStore,
  producer: Producer,
  topicPrefix: string,
  pairId: string,
  actor: string,
  reason: string,
  now: number,
): Promise<void> {
  const [snapshot, config] = await Promise.all([store.readState(pairId), store.readConfig(pairId)]);
  const p = parsePairId(pairId);
  const forced = effectiveForced(snapshot, now);
  await producer.send({
    topic: topics(topicPrefix).breakerControl,
    messages: [
      encodeBreakerControl(
        {
          pair: pairId,
          caller: p?.caller ?? "?",
          callee: p?.callee ?? "?",
          ...(p?.operation ? { operation: p.operation } : {}),
          forced,
          forcedUntil: forced && snapshot.forcedUntil ? new Date(snapshot.forcedUntil).toISOString() : null,
          thresholds: {
            failureRate: config.failureRate,
            minimumCalls: config.minimumCalls,
            openMs: config.openMs,
          },
          version: now,
          requestedBy: actor,
          reason,
        },
        "/sagascope/dashboard",
      ),
    ],
  });
}

/**
 * A pair that only reports through events (a breaker of another library) keeps its state in
 * its own process: the decision goes on the control channel alone, for its bridge to apply
 * (and report back as its forced state), and nothing is written to Sagascope's Redis.
 */
async function overrideReportedBreaker(
  producer: Producer,
  topicPrefix: string,
  input: BreakerOverride,
  actor: string,
  now: number,
): Promise<Outcome> {
  if (input.op === "reset")
    throw new AppError(
      "BAD_REQUEST",
      `${input.pair} keeps its counters in its own library, so they cannot be reset from here; force it or clear its override`,
    );
  const forced = input.op === "force-open" ? "open" : input.op === "force-closed" ? "closed" : null;
  const until = forced && input.forMinutes ? new Date(now + input.forMinutes * 60_000).toISOString() : null;
  const why = input.reason ? `: ${input.reason}` : "";
  const message = forced
    ? `${input.pair} forced ${forced}${until ? ` until ${until}` : " until cleared"} by ${actor}${why}`
    : `override of ${input.pair} cleared by ${actor}${why}`;
  const p = parsePairId(input.pair);
  await producer.send({
    topic: topics(topicPrefix).breakerControl,
    messages: [
      encodeBreakerControl(
        {
          pair: input.pair,
          caller: p?.caller ?? "?",
          callee: p?.callee ?? "?",
          ...(p?.operation ? { operation: p.operation } : {}),
          forced,
          forcedUntil: until,
          version: now,
          requestedBy: actor,
          reason: message,
        },
        "/sagascope/dashboard",
      ),
    ],
  });
  return {
    phase: "done",
    message: `${message} (sent on the control channel; the pair's callers apply it and report it back)`,
  };
}

/** How long a pair reported by events alone counts as another library's (as the breakers list shows it). */
const REPORTED_WITHIN = "24 hours";

/**
 * Whether the pair's breaker is another library's: it reported through events and has never
 * used Sagascope's Redis. A pair nobody has used yet is forced in Redis too, so that Sagascope's
 * own breakers obey it from their first call.
 */
export async function isReportedOnly(
  store: BreakerStore,
  db: Pick<Pool, "query">,
  pair: string,
): Promise<boolean> {
  if (await store.knows(pair)) return false;
  const { rows } = await db.query(
    `SELECT 1 FROM breaker_transition WHERE pair = $1 AND time > now() - interval '${REPORTED_WITHIN}'
     UNION ALL
     SELECT 1 FROM breaker_stats WHERE pair = $1 AND window_end > now() - interval '${REPORTED_WITHIN}'
     LIMIT 1`,
    [pair],
  );
  return rows.length > 0;
}

export async function overrideBreaker(
  store: BreakerStore,
  producer: Producer,
  topicPrefix: string,
  input: BreakerOverride,
  actor: string,
  reportedOnly: boolean,
  now = Date.now(),
): Promise<Outcome> {
  if (reportedOnly) return overrideReportedBreaker(producer, topicPrefix, input, actor, now);
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
  await publishControl(store, producer, topicPrefix, input.pair, actor, message, now);
  return { phase: "done", message: `${message} (was ${shown(before, now)}, now ${shown(after, now)})` };
}

export async function configureBreaker(
  store: BreakerStore,
  producer: Producer,
  topicPrefix: string,
  input: z.infer<typeof BreakerConfigInputSchema>,
  actor: string,
  now = Date.now(),
): Promise<Outcome> {
  const before = await store.readConfig(input.pair);
  const after = await store.setConfig(input.pair, mergedConfig(before, input.thresholds));
  const changed = (Object.keys(input.thresholds) as (keyof Thresholds)[])
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k} ${before[k]} → ${after[k]}`);
  const message = changed.length ? `${input.pair}: ${changed.join(", ")}` : `${input.pair}: nothing changed`;
  if (changed.length)
    await publishControl(store, producer, topicPrefix, input.pair, actor, `${message} by ${actor}`, now);
  return { phase: "done", message };
}

/** Forces a pair's breaker open, closed or disabled for a while, or clears that. */
export function overrideBreakerAction(a: Acting, input: BreakerOverride): Promise<ActionStatus> {
  return performAction(
    a.pool,
    a.actor,
    {
      action: `breaker.${input.op}`,
      permission: "breaker.override",
      target: input.pair,
      params: { forMinutes: input.forMinutes ?? null, reason: input.reason ?? "" },
      idempotencyKey: input.idempotencyKey,
    },
    async () =>
      overrideBreaker(
        a.breakerStore,
        await a.producer(),
        a.topicPrefix,
        input,
        a.actor.email,
        await isReportedOnly(a.breakerStore, a.pool, input.pair),
      ),
  );
}

/** Changes a pair's thresholds (admins), the settings before kept on the audit log. */
export async function configureBreakerAction(
  a: Acting,
  input: z.infer<typeof BreakerConfigInputSchema>,
): Promise<ActionStatus> {
  const before = await a.breakerStore.readConfig(input.pair);
  return performAction(
    a.pool,
    a.actor,
    {
      action: "breaker.configure",
      permission: "breaker.configure",
      target: input.pair,
      params: { before, proposed: input.thresholds },
      idempotencyKey: input.idempotencyKey,
    },
    async () => {
      if (await isReportedOnly(a.breakerStore, a.pool, input.pair))
        throw new AppError(
          "BAD_REQUEST",
          `${input.pair} keeps its thresholds in its own library; change them where its breaker is built`,
        );
      return configureBreaker(a.breakerStore, await a.producer(), a.topicPrefix, input, a.actor.email);
    },
  );
}
