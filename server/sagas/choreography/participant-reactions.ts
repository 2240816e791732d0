// How a participant handles a message of the saga's domain topic: the reaction's step in one
// transaction with the event id (dedupe), the outbox and, for a step, its trigger kept; a
// transient failure retried, a step's failure for good handed to its failure handler, a
// message that cannot be handled parked, and one of a paused saga held.
import type { PoolClient } from "../../db/pool.ts";
import { type Boundaries, withBoundaries, withTransaction } from "../../db/transaction.ts";
import {
  type DomainEvent,
  type DomainSchemas,
  decodeDomainEvent,
  describePause,
  domainEvent,
  encodeDomainEvent,
  type Failure,
  type SagaEvent,
} from "../../events/index.ts";
import { StepFailure } from "../step-failure.ts";
import type { ParticipantReports } from "./participant-reports.ts";
import type { ParticipantStore } from "./participant-store.ts";
import type {
  OutboxMessage,
  ParticipantOptions,
  ParticipantStats,
  RawMessage,
  Reaction,
  ReactionContext,
} from "./participant-types.ts";

export const PARKED_CODE = "PARKED";

/** Thrown out of an attempt's transaction (rolling it back) when what operators asked of the saga sends the message elsewhere. */
class MarkedSaga extends Error {
  constructor(readonly mark: { kind: "paused" } | { kind: "stopped"; failure: Failure }) {
    super(`the saga is ${mark.kind}`);
  }
}

/** What became of a message handed to a participant. */
export type Handling = "handled" | "duplicate" | "failed" | "parked" | "held" | "resolved" | "ignored";
const MAX_PAUSE_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createParticipantReactions<S extends DomainSchemas>(deps: {
  options: ParticipantOptions<S>;
  store: ParticipantStore;
  stats: ParticipantStats;
  reports: ParticipantReports;
}) {
  const { options, store, stats } = deps;
  const { service, schemas, reactions, pool, log, topics } = options;
  const { recorderFor, controlResult, sagaMessages, recordStart, recordFailure } = deps.reports;
  const stepRetry = options.retry ?? { attempts: 3, backoffMs: 100 };
  const mustSucceedRetry = options.compensationRetry ?? { attempts: 10, backoffMs: 100 };
  const poisonAttempts = options.poisonAttempts ?? 3;
  const reactionFor = (type: string) =>
    (Object.hasOwn(reactions, type) ? reactions[type] : undefined) as Reaction<S> | undefined;

  function context(tx: PoolClient, event: DomainEvent<S>, attempt: number) {
    const saga = recorderFor(event);
    const published: DomainEvent[] = [];
    const others: OutboxMessage[] = [];
    const ctx: ReactionContext<S> = {
      event,
      sagaId: event.key,
      tx,
      attempt,
      saga,
      publish: (type, data) => {
        published.push(
          domainEvent(schemas, type, event.key, data, { source: options.source, trace: saga.span }),
        );
      },
      emit: (topic, message) => void others.push({ topic, message }),
    };
    return { ctx, published: { events: published, others } };
  }

  /**
   * Writes what a reaction produced, and for the owner settles commands waiting for the saga's
   * end: the transaction's last statements, COMMIT riding with the outbox's rows.
   */
  async function finish(
    tx: PoolClient,
    ctx: ReactionContext<S>,
    published: { events: DomainEvent[]; others: OutboxMessage[] },
    boundaries: Boundaries,
  ) {
    const results: SagaEvent[] = [];
    const ended = ctx.saga.ended;
    // A retry-from applies only to a saga moving forward: an ended saga's triggers go.
    if (ended) boundaries.defer(store.dropTriggersStatement(tx, ctx.sagaId));
    if (ended && options.owner) {
      for (const pending of await store.endAndTakePending(tx, ctx.sagaId, ended)) {
        const done = ended !== "completed";
        results.push(
          controlResult(
            { sagaId: ctx.sagaId, trace: ctx.saga.span },
            { commandId: pending.commandId, action: pending.action as "compensate" },
            done ? "done" : "refused",
            done ? `the saga ended ${ended}` : "the saga completed before the compensation took effect",
          ),
        );
      }
    }
    // Contract events first: the saga's story reaches the dashboard before the next participant acts on it.
    const messages = [
      ...sagaMessages([...ctx.saga.events, ...results]),
      ...published.events.map((e) => ({ topic: topics.domain, message: encodeDomainEvent(e) })),
      ...published.others,
    ];
    // With no messages, the deferred statements go with the transaction's own COMMIT.
    if (messages.length > 0) await store.outbox.insert(tx, messages, boundaries.closing);
  }

  /** Keeps a message that cannot be handled, reports it (dead-letter topic, saga event) and moves on. */
  async function park(raw: RawMessage, reason: string, event?: DomainEvent<S>, reaction?: Reaction<S>) {
    await withTransaction(pool, async (tx) => {
      const id = event?.id ?? `raw:${raw.topic}/${raw.partition}/${raw.offset}`;
      if (!(await store.claimEvent(tx, id, event?.key ?? null, event?.type ?? "unreadable"))) return;
      await store.park(tx, { ...raw, sagaId: event?.key ?? null, reason });
      const letter = {
        topic: topics.deadLetters,
        message: {
          key: raw.key?.toString("base64") ?? "",
          value: raw.value?.toString("base64") ?? "",
          headers: {
            ...raw.headers,
            "sagascope-encoding": "base64",
            "sagascope-reason": `parked by ${service}: ${reason}`,
            "sagascope-origin": `${raw.topic}/${raw.partition}/${raw.offset}`,
          },
        },
      };
      const reported: SagaEvent[] = [];
      if (event && reaction) {
        const saga = recorderFor(event);
        const failure: Failure = {
          category: "transient",
          message: `message parked: ${reason}`,
          code: PARKED_CODE,
        };
        recordFailure(saga, reaction, poisonAttempts, Date.now(), failure, false);
        reported.push(...saga.events);
      }
      await store.outbox.insert(tx, [letter, ...sagaMessages(reported)]);
    });
    stats.parked += 1;
    log.warn("parked a message", { offset: raw.offset, partition: raw.partition, reason });
  }

  /**
   * Keeps a message of a paused saga, without reporting it as failing, to be handled on resume.
   * False when the saga is no longer paused: the pause is read again under a lock, so a resume
   * either comes first (and the message is handled now) or finds the message held.
   */
  async function hold(raw: RawMessage, event: DomainEvent<S>): Promise<boolean> {
    const held = await withTransaction(pool, async (tx) => {
      const { paused } = await store.mark(tx, event.key, true);
      if (!paused) return false;
      if (!(await store.claimEvent(tx, event.id, event.key, event.type))) return true;
      await store.park(tx, {
        ...raw,
        sagaId: event.key,
        reason: `held: ${describePause(paused)}`,
        held: true,
      });
      return true;
    });
    if (held) log.info("held a message of a paused saga", { sagaId: event.key, type: event.type });
    return held;
  }

  /** A step that failed for good: the reaction publishes the failure; a compensation goes to an operator. */
  async function fail(
    raw: RawMessage,
    event: DomainEvent<S>,
    reaction: Reaction<S>,
    failure: Failure,
    attempt: number,
    began: number,
  ): Promise<Handling> {
    if (reaction.kind === "compensation" || !reaction.onFailure) {
      const what =
        reaction.kind === "compensation" ? `compensation ${reaction.step} failed` : "no failure handler";
      await park(raw, `${what}: ${failure.message}`, event, reaction);
      return "parked";
    }
    const onFailure = reaction.onFailure;
    await withBoundaries(pool, async (tx, boundaries) => {
      await boundaries.begin();
      if (!(await store.claimEvent(tx, event.id, event.key, event.type))) return;
      const { ctx, published } = context(tx, event, attempt);
      recordFailure(ctx.saga, reaction, attempt, began, failure, false);
      await onFailure(ctx, failure);
      // The saga is compensating from here: a step message that comes again (an operator's
      // retry-from upstream) fails the same way instead of doing the step.
      await store.setMark(tx, event.key, "fail");
      await finish(tx, ctx, published, boundaries);
    });
    stats.failed += 1;
    return "failed";
  }

  async function react(raw: RawMessage): Promise<Handling> {
    const decoded = decodeDomainEvent(schemas, raw);
    if (!decoded.ok) {
      // Unreadable, or meant for this participant but malformed: it will never succeed.
      if (decoded.type === undefined || reactionFor(decoded.type)) {
        await park(raw, decoded.reason);
        return "parked";
      }
      return "ignored";
    }
    const event = decoded.event;
    const reaction = reactionFor(event.type);
    if (!reaction) return "ignored";
    // A step may fail for good and travel back as a failure; anything else must get through.
    const retry = reaction.step && reaction.kind !== "compensation" ? stepRetry : mustSucceedRetry;
    /** What operators asked of the saga is looked at in the first attempt's transaction, not again on retries. */
    let markSeen = false;
    for (let attempt = 1; ; attempt += 1) {
      const began = Date.now();
      try {
        const outcome = await withBoundaries(
          pool,
          async (tx, boundaries): Promise<"handled" | "duplicate" | "resolved"> => {
            // The claim, with the saga's mark read in the same statement, BEGIN ahead of it.
            const claim = { id: event.id, sagaId: event.key, type: event.type };
            const { fresh, mark } = await store.claimAndMark(tx, claim, boundaries.opening);
            if (!markSeen) {
              // An operator took this saga over: the claim is kept, nothing more is done for it.
              if (mark.resolved) return "resolved";
              // Paused: no new step or compensation starts; the message waits for the resume.
              if (mark.paused) throw new MarkedSaga({ kind: "paused" });
              if ((mark.cancelRequested || mark.failed) && reaction.kind !== "compensation" && reaction.step)
                throw new MarkedSaga({
                  kind: "stopped",
                  failure: mark.cancelRequested
                    ? {
                        category: "business",
                        message: "an operator asked to compensate the saga",
                        code: "CANCELLED",
                      }
                    : {
                        category: "business",
                        message: `the saga already failed at ${service} and is compensating`,
                        code: "ALREADY_FAILED",
                      },
                });
              markSeen = true;
            }
            if (!fresh) return "duplicate";
            const { ctx, published } = context(tx, event, attempt);
            recordStart(ctx.saga, reaction, attempt);
            await reaction.handle(ctx);
            if (reaction.step) {
              const took = Date.now() - began;
              if (reaction.kind === "compensation")
                ctx.saga.compensationSucceeded(reaction.step, attempt, took);
              else {
                ctx.saga.stepSucceeded(reaction.step, attempt, took);
                // An operator's retry-from may ask for the step again: its trigger is kept.
                boundaries.defer(store.keepTriggerStatement(tx, event.key, reaction.step, raw));
              }
            }
            // The trigger and COMMIT travel with the outbox's rows.
            await finish(tx, ctx, published, boundaries);
            return "handled";
          },
        );
        if (outcome === "handled") stats.handled += 1;
        if (outcome === "duplicate") stats.duplicates += 1;
        return outcome;
      } catch (error) {
        if (error instanceof MarkedSaga) {
          // Rolled back, claim and all: the saga's own path claims the message.
          if (error.mark.kind === "stopped")
            return fail(raw, event, reaction, error.mark.failure, 1, Date.now());
          if (await hold(raw, event)) return "held";
          // Resumed meanwhile: handled as any message, from a fresh look at the mark.
          attempt -= 1;
          continue;
        }
        const pause = Math.min(retry.backoffMs * 2 ** (attempt - 1), MAX_PAUSE_MS);
        if (error instanceof StepFailure) {
          const failure: Failure = {
            category: error.category,
            message: error.message,
            ...(error.code ? { code: error.code } : {}),
          };
          if (failure.category === "business" || attempt >= retry.attempts)
            return fail(raw, event, reaction, failure, attempt, began);
          // The failed attempt is on the record, in a transaction of its own (the step's rolled back).
          await withTransaction(pool, async (tx) => {
            const saga = recorderFor(event);
            recordFailure(saga, reaction, attempt, began, failure, true);
            await store.outbox.insert(tx, sagaMessages(saga.events));
          });
          stats.retried += 1;
          await sleep(pause);
          continue;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= poisonAttempts) {
          await park(raw, `handling failed ${attempt} times: ${message}`, event, reaction);
          return "parked";
        }
        log.warn("handling failed; retrying", {
          type: event.type,
          sagaId: event.key,
          attempt,
          error: message,
        });
        await sleep(pause);
      }
    }
  }

  return { react, context, finish };
}

export type ParticipantReactions = ReturnType<typeof createParticipantReactions>;
