// A choreography participant: a consumer group of its own on the saga's domain topic. For
// each message it reacts to, it does its local step and writes the events that follow
// (domain events for the next participant, contract events for the dashboard) into its
// outbox, in one transaction with the step and the event id (dedupe). Offsets are
// committed only after that transaction, so a participant killed mid-step re-reads the
// message and the event id makes the second reading harmless. A message that keeps
// failing is parked (kept, reported), never allowed to block its partition.
import type { Consumer, IHeaders, Kafka, KafkaMessage, Message, Producer } from "kafkajs";
import type { z } from "zod";
import type { Pool, PoolClient } from "../../db/pool.ts";
import { withTransaction } from "../../db/transaction.ts";
import {
  type DomainEvent,
  type DomainSchemas,
  decodeDomainEvent,
  decodeSagaEvent,
  describePause,
  domainEvent,
  encodeDomainEvent,
  encodeSagaEvent,
  type Failure,
  headersAsText,
  newTrace,
  type SagaEvent,
  sagaEvent,
  type TraceContext,
  topicOfSagaEvent,
} from "../../events/index.ts";
import { runConsumer } from "../../events/kafka-client.ts";
import type { Logger } from "../../log.ts";
import { createOutboxRelay } from "../outbox/outbox-relay.ts";

interface OutboxMessage {
  topic: string;
  message: Message;
}

import { StepFailure } from "../step-failure.ts";
import type { Choreography } from "./choreography.ts";
import { createParticipantStore, type ParticipantStore, type StoredMessage } from "./participant-store.ts";
import { createSagaRecorder, type SagaRecorder } from "./saga-recorder.ts";

export interface ReactionContext<S extends DomainSchemas, T extends keyof S & string = keyof S & string> {
  event: DomainEvent<S, T>;
  sagaId: string;
  /** The participant's transaction: its business writes go here, with the dedupe and the outbox. */
  tx: PoolClient;
  attempt: number;
  saga: SagaRecorder;
  /** Publishes a domain event for the next participant (keyed by the saga id) once the transaction commits. */
  publish<T extends keyof S & string>(type: T, data: z.input<S[T]>): void;
  /** Publishes any other message (e.g. a change of the service's own data) once the transaction commits. */
  emit(topic: string, message: Message): void;
}

export interface Reaction<S extends DomainSchemas, T extends keyof S & string = keyof S & string> {
  /** The step this reaction performs or compensates; its contract events are recorded for it. */
  step?: string;
  kind?: "action" | "compensation";
  handle(ctx: ReactionContext<S, T>): Promise<void>;
  /** The step failed for good (a business refusal, retries spent, or cancelled): publish the failure event. */
  onFailure?(ctx: ReactionContext<S, T>, failure: Failure): Promise<void>;
}

export interface ParticipantOptions<S extends DomainSchemas> {
  service: string;
  /** CloudEvents source of what it publishes. */
  source: string;
  choreography: Choreography;
  schemas: S;
  reactions: { [T in keyof S & string]?: Reaction<S, T> };
  pool: Pool;
  databaseUrl: string;
  /** The participant's own schema for its bookkeeping and outbox. */
  schema: string;
  kafka: Kafka;
  producer: Producer;
  groupId: string;
  topics: { domain: string; sagaEvents: string; control: string; deadLetters: string };
  /** The saga's owner of record: it starts and ends the saga and answers operators' commands for it. */
  owner?: boolean;
  /** Tries of a step that fails transiently, with the pause after the first (doubling). */
  retry?: { attempts: number; backoffMs: number };
  /** Tries of everything that must eventually succeed (compensations, bookkeeping) before it is parked. */
  compensationRetry?: { attempts: number; backoffMs: number };
  /** How many partitions are handled at once (each in order). */
  partitionsConcurrently?: number;
  /** How long the group waits for a silent member before its partitions are handed on. */
  sessionTimeoutMs?: number;
  /** Tries of a message whose handling throws something unexpected, before it is parked. */
  poisonAttempts?: number;
  log: Logger;
}

export interface ParticipantStats {
  handled: number;
  duplicates: number;
  retried: number;
  failed: number;
  parked: number;
  redriven: number;
}

export interface Participant<S extends DomainSchemas> {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The owner starts a saga: `work` does the first step in the participant's transaction. */
  begin(
    run: {
      sagaId: string;
      step: string;
      businessKey?: string;
      input?: Record<string, unknown>;
      trace?: TraceContext;
    },
    work: (ctx: Omit<ReactionContext<S>, "event">) => Promise<void>,
  ): Promise<void>;
  stats(): ParticipantStats;
  store: ParticipantStore;
}

type RawMessage = StoredMessage;

/** Text columns cannot hold NUL; the raw bytes keep the original. */
const escapeNul = (text: string) => text.replaceAll("\u0000", "\\u0000");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const PARKED_CODE = "PARKED";
const CONTROL_COMMAND = "io.sagascope.control.command";

export function createParticipant<S extends DomainSchemas>(options: ParticipantOptions<S>): Participant<S> {
  const { service, choreography, schemas, reactions, pool, log, topics } = options;
  const stepRetry = options.retry ?? { attempts: 3, backoffMs: 100 };
  const mustSucceedRetry = options.compensationRetry ?? { attempts: 10, backoffMs: 100 };
  const MAX_PAUSE_MS = 2000;
  const poisonAttempts = options.poisonAttempts ?? 3;
  const store = createParticipantStore(pool, options.schema);
  const relay = createOutboxRelay({
    databaseUrl: options.databaseUrl,
    outbox: store.outbox,
    producer: options.producer,
    name: options.schema,
    log,
  });
  const stats: ParticipantStats = {
    handled: 0,
    duplicates: 0,
    retried: 0,
    failed: 0,
    parked: 0,
    redriven: 0,
  };
  const consumers: Consumer[] = [];
  const reactionFor = (type: string) =>
    (Object.hasOwn(reactions, type) ? reactions[type] : undefined) as Reaction<S> | undefined;
  /** Whether this participant performs the step (rather than compensating it, or not at all). */
  const performs = (step: string) =>
    Object.values(reactions).some(
      (r) => (r as Reaction<S> | undefined)?.step === step && r?.kind !== "compensation",
    );

  function context(tx: PoolClient, event: DomainEvent<S>, attempt: number) {
    const saga = createSagaRecorder(choreography, {
      sagaId: event.key,
      trace: event.trace,
      source: options.source,
    });
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

  const controlResult = (
    ref: { sagaId: string; trace: TraceContext },
    command: {
      commandId: string;
      action: SagaEvent<"io.sagascope.control.result">["data"]["action"];
      requestedBy?: string | undefined;
    },
    outcome: "done" | "refused",
    message: string,
  ) =>
    sagaEvent(
      "io.sagascope.control.result",
      {
        sagaId: ref.sagaId,
        sagaType: choreography.type,
        mode: "choreographed",
        commandId: command.commandId,
        action: command.action,
        outcome,
        message,
        handledBy: service,
        ...(command.requestedBy ? { requestedBy: command.requestedBy } : {}),
      },
      { source: options.source, trace: ref.trace },
    ) as SagaEvent;

  const sagaMessages = (events: SagaEvent[]) =>
    events.map((e) => ({
      topic: topicOfSagaEvent(e.type, topics),
      message: encodeSagaEvent(e),
    }));

  /** Writes what a reaction produced, and for the owner settles commands waiting for the saga's end. */
  async function finish(
    tx: PoolClient,
    ctx: ReactionContext<S>,
    published: { events: DomainEvent[]; others: OutboxMessage[] },
  ) {
    const results: SagaEvent[] = [];
    const ended = ctx.saga.ended;
    if (ended && options.owner) {
      await store.setMark(tx, ctx.sagaId, "end", ended);
      for (const pending of await store.takePending(tx, ctx.sagaId)) {
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
    await store.outbox.insert(tx, [
      ...sagaMessages([...ctx.saga.events, ...results]),
      ...published.events.map((e) => ({ topic: topics.domain, message: encodeDomainEvent(e) })),
      ...published.others,
    ]);
  }

  function recordStart(saga: SagaRecorder, reaction: Reaction<S>, attempt: number) {
    if (!reaction.step) return;
    if (reaction.kind === "compensation") saga.compensationStarted(reaction.step, attempt);
    else saga.stepStarted(reaction.step, attempt);
  }

  function recordFailure(
    saga: SagaRecorder,
    reaction: Reaction<S>,
    attempt: number,
    began: number,
    failure: Failure,
    willRetry: boolean,
  ) {
    if (!reaction.step) return;
    recordStart(saga, reaction, attempt);
    const took = Date.now() - began;
    if (reaction.kind === "compensation") saga.compensationFailed(reaction.step, attempt, took, failure);
    else saga.stepFailed(reaction.step, attempt, took, failure, willRetry);
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
        const saga = createSagaRecorder(choreography, {
          sagaId: event.key,
          trace: event.trace,
          source: options.source,
        });
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
  ) {
    if (reaction.kind === "compensation" || !reaction.onFailure) {
      const what =
        reaction.kind === "compensation" ? `compensation ${reaction.step} failed` : "no failure handler";
      return park(raw, `${what}: ${failure.message}`, event, reaction);
    }
    const onFailure = reaction.onFailure;
    await withTransaction(pool, async (tx) => {
      if (!(await store.claimEvent(tx, event.id, event.key, event.type))) return;
      const { ctx, published } = context(tx, event, attempt);
      recordFailure(ctx.saga, reaction, attempt, began, failure, false);
      await onFailure(ctx, failure);
      await finish(tx, ctx, published);
    });
    stats.failed += 1;
  }

  async function react(raw: RawMessage): Promise<void> {
    // The owner relays an accepted retry-from on the saga's own partition, behind its messages.
    if (raw.headers.ce_type === CONTROL_COMMAND) return retryFromHere(raw);
    const decoded = decodeDomainEvent(schemas, raw);
    if (!decoded.ok) {
      // Unreadable, or meant for this participant but malformed: it will never succeed.
      if (decoded.type === undefined || reactionFor(decoded.type)) await park(raw, decoded.reason);
      return;
    }
    const event = decoded.event;
    const reaction = reactionFor(event.type);
    if (!reaction) return;
    const mark = await store.mark(pool, event.key);
    if (mark.resolved) {
      // An operator took this saga over: nothing more is done for it.
      await withTransaction(pool, (tx) => store.claimEvent(tx, event.id, event.key, event.type));
      return;
    }
    // Paused: no new step or compensation starts; the message waits for the resume.
    if (mark.paused && (await hold(raw, event))) return;
    if (mark.cancelRequested && reaction.kind !== "compensation" && reaction.step) {
      const cancelled: Failure = {
        category: "business",
        message: "an operator asked to compensate the saga",
        code: "CANCELLED",
      };
      return fail(raw, event, reaction, cancelled, 1, Date.now());
    }
    // A step may fail for good and travel back as a failure; anything else must get through.
    const retry = reaction.step && reaction.kind !== "compensation" ? stepRetry : mustSucceedRetry;
    for (let attempt = 1; ; attempt += 1) {
      const began = Date.now();
      try {
        const fresh = await withTransaction(pool, async (tx) => {
          if (!(await store.claimEvent(tx, event.id, event.key, event.type))) return false;
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
              await store.keepTrigger(tx, event.key, reaction.step, raw);
            }
          }
          await finish(tx, ctx, published);
          return true;
        });
        if (fresh) stats.handled += 1;
        else stats.duplicates += 1;
        return;
      } catch (error) {
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
            const saga = createSagaRecorder(choreography, {
              sagaId: event.key,
              trace: event.trace,
              source: options.source,
            });
            recordFailure(saga, reaction, attempt, began, failure, true);
            await store.outbox.insert(tx, sagaMessages(saga.events));
          });
          stats.retried += 1;
          await sleep(pause);
          continue;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (attempt >= poisonAttempts)
          return park(raw, `handling failed ${attempt} times: ${message}`, event, reaction);
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

  /** An operator's command for a saga of this type: every participant does its part, the owner answers. */
  async function obey(command: SagaEvent<"io.sagascope.control.command">): Promise<void> {
    const d = command.data;
    const ref = { sagaId: d.sagaId, trace: command.trace };
    const answer: SagaEvent[] = [];
    const relay: OutboxMessage[] = [];
    let redrive: "parked" | "held" | undefined;
    const fresh = await withTransaction(pool, async (tx) => {
      if (!(await store.claimEvent(tx, `control:${d.commandId}`, d.sagaId, command.type))) return false;
      const mark = await store.mark(tx, d.sagaId);
      const ended = mark.ended
        ? `the saga has already ended (${mark.ended})`
        : mark.resolved
          ? "the saga was marked resolved"
          : undefined;
      const refuse = (message: string) => {
        if (options.owner) answer.push(controlResult(ref, d, "refused", message));
      };
      switch (d.action) {
        case "compensate":
          if (ended) refuse(ended);
          else {
            await store.setMark(tx, d.sagaId, "cancel");
            if (options.owner) await store.addPending(tx, d.commandId, d.sagaId, d.action);
            redrive = "parked";
          }
          break;
        case "mark-resolved":
          if (mark.ended === "completed" || mark.ended === "compensated" || mark.resolved)
            refuse(ended ?? "");
          else {
            await store.setMark(tx, d.sagaId, "resolve");
            if (options.owner)
              answer.push(controlResult(ref, d, "done", `marked resolved: ${d.reason ?? ""}`));
          }
          break;
        case "retry-step":
          if (d.input)
            refuse(
              "a choreographed saga's input travels in its messages: edit its parked message on the dead-letters page and replay it",
            );
          else if (ended) refuse(`nothing to retry: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)}: resume it first`);
          else redrive = "parked";
          break;
        case "pause":
          if (ended) refuse(`nothing to pause: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)} already`);
          else {
            await store.setPaused(tx, d.sagaId, d.requestedBy ?? "an operator");
            if (options.owner)
              answer.push(
                controlResult(
                  ref,
                  d,
                  "done",
                  `paused${d.requestedBy ? ` by ${d.requestedBy}` : ""}; each participant holds the saga's next messages until it is resumed`,
                ),
              );
          }
          break;
        case "resume":
          if (!mark.paused) refuse("the saga is not paused");
          else {
            await store.setPaused(tx, d.sagaId, null);
            redrive = "held";
            if (options.owner)
              answer.push(
                controlResult(
                  ref,
                  d,
                  "done",
                  `resumed${d.requestedBy ? ` by ${d.requestedBy}` : ""}; each participant handles the messages it held now`,
                ),
              );
          }
          break;
        case "retry-from": {
          const from = d.fromStep ?? -1;
          const step = choreography.steps[from];
          if (ended) refuse(`retry-from applies to a saga still moving forward: ${ended}`);
          else if (mark.paused) refuse(`${describePause(mark.paused)}: resume it first`);
          else if (mark.cancelRequested)
            refuse("retry-from applies to a saga still moving forward: it is being compensated");
          else if (!step)
            refuse(`step ${from} does not exist (the saga has ${choreography.steps.length} steps)`);
          else if (from === 0)
            refuse(
              `step 0 (${step.name}) is started by the application, not by a message: there is no trigger to handle again`,
            );
          // The participant that performs the step handles its trigger again and answers.
          else if (options.owner) relay.push({ topic: topics.domain, message: encodeSagaEvent(command) });
          break;
        }
      }
      await store.outbox.insert(tx, [...sagaMessages(answer), ...relay]);
      return true;
    });
    if (!fresh || !redrive) return;
    // Parked messages of the saga are handled again: after a cancel they fail their step (so
    // the compensations run); after retry-step they get a fresh set of tries. After a resume,
    // the messages held while paused are handled as if they had just arrived.
    const parked = await redriveParked(d.sagaId, { held: redrive === "held" });
    if (d.action === "retry-step" && parked.length > 0) {
      await withTransaction(pool, (tx) =>
        store.outbox.insert(
          tx,
          sagaMessages([
            controlResult(ref, d, "done", `${service} handled ${parked.length} parked message(s) again`),
          ]),
        ),
      );
    }
  }

  /**
   * A retry-from the owner accepted, read from the saga's partition: the participant that
   * performs the step handles the message that triggered it again (every later step follows
   * from what it publishes), and answers. At least once: a crash before the answer handles
   * the trigger again, so a reaction must be idempotent per saga.
   */
  async function retryFromHere(raw: RawMessage): Promise<void> {
    const decoded = decodeSagaEvent(raw);
    if (!decoded.ok || decoded.event.type !== CONTROL_COMMAND) return;
    const command = decoded.event as SagaEvent<"io.sagascope.control.command">;
    const d = command.data;
    const from = d.fromStep ?? -1;
    const step = choreography.steps[from];
    if (d.action !== "retry-from" || d.sagaType !== choreography.type || !step || !performs(step.name))
      return;
    const answerId = `retry-from:${d.commandId}`;
    if (await store.processed(answerId)) return;
    const mark = await store.mark(pool, d.sagaId);
    const named = `step ${from} (${step.name})`;
    let outcome: "done" | "refused" = "refused";
    let message: string;
    if (mark.paused) message = `${describePause(mark.paused)}: resume it first`;
    else if (mark.resolved) message = "the saga was marked resolved";
    else {
      const trigger = await store.trigger(d.sagaId, step.name);
      if (!trigger) {
        const parked = (await store.listParked(d.sagaId)).length > 0;
        message = `${service} has not performed ${named} of this saga: it was not reached${parked ? " (a message of the saga is parked here: retry the step instead)" : ""}`;
      } else {
        const eventId = trigger.headers.ce_id;
        if (eventId) await withTransaction(pool, (tx) => store.forgetEvent(tx, eventId));
        await react(trigger);
        stats.redriven += 1;
        outcome = "done";
        message = `${service} handled the trigger of ${named} again; the saga goes on from there`;
      }
    }
    await withTransaction(pool, async (tx) => {
      if (!(await store.claimEvent(tx, answerId, d.sagaId, command.type))) return;
      await store.outbox.insert(
        tx,
        sagaMessages([controlResult({ sagaId: d.sagaId, trace: command.trace }, d, outcome, message)]),
      );
    });
  }

  /** Handles a saga's parked (or held) messages again, oldest first; returns them. */
  async function redriveParked(sagaId: string, which: { held: boolean }) {
    const parked = await store.listParked(sagaId, which);
    for (const message of parked) {
      const eventId = message.headers.ce_id;
      if (eventId) await withTransaction(pool, (tx) => store.forgetEvent(tx, eventId));
      await react(message);
      await store.markRedriven(message.id);
      stats.redriven += 1;
    }
    return parked;
  }

  const asRaw = (topic: string, partition: number, message: KafkaMessage): RawMessage => ({
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: Object.fromEntries(
      Object.entries(headersAsText(message.headers as IHeaders)).map(([k, v]) => [
        escapeNul(k),
        escapeNul(v),
      ]),
    ),
  });

  async function consume(
    groupId: string,
    topic: string,
    fromBeginning: boolean,
    handle: (raw: RawMessage, message: KafkaMessage) => Promise<void>,
  ) {
    // A short session: a killed participant's partitions go to its replacement within seconds.
    const consumer = options.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
    });
    consumers.push(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await runConsumer(
      consumer,
      { topics: [topic], fromBeginning },
      {
        // A message's offset is resolved only when its handler returned, i.e. after its
        // transaction committed; resolved offsets are committed every second or 100 messages.
        // A crash in between re-reads a few messages, which the event ids make harmless.
        autoCommit: true,
        autoCommitInterval: 1000,
        autoCommitThreshold: 100,
        // Partitions are independent (a saga lives in one), so several are handled at once.
        partitionsConsumedConcurrently: options.partitionsConcurrently ?? 4,
        eachMessage: ({ topic, partition, message }) => handle(asRaw(topic, partition, message), message),
      },
      log,
      () => !consumers.includes(consumer),
    );
    await joined;
  }

  return {
    store,
    stats: () => ({ ...stats }),
    async start() {
      await store.init();
      relay.start();
      // A resume cut short (a crash while it handled the held messages) is finished first.
      for (const sagaId of await store.sagasHeldUnpaused()) await redriveParked(sagaId, { held: true });
      await consume(options.groupId, topics.domain, true, (raw) => react(raw));
      await consume(`${options.groupId}.control`, topics.control, false, async (_raw, message) => {
        const decoded = decodeSagaEvent(message);
        if (!decoded.ok || decoded.event.type !== "io.sagascope.control.command") return;
        const command = decoded.event as SagaEvent<"io.sagascope.control.command">;
        if (command.data.sagaType === choreography.type && command.data.mode === "choreographed")
          await obey(command);
      });
    },
    async stop() {
      // Each consumer finishes the message in hand and commits it.
      await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
      await relay.stop();
    },
    async begin(run, work) {
      const began = Date.now();
      const trace = run.trace ?? newTrace();
      await withTransaction(pool, async (tx) => {
        const origin = {
          id: `begin:${run.sagaId}`,
          source: options.source,
          type: "begin",
          time: new Date(),
          trace,
          key: run.sagaId,
          data: {},
        };
        const { ctx, published } = context(tx, origin as unknown as DomainEvent<S>, 1);
        ctx.saga.started({
          ...(run.businessKey ? { businessKey: run.businessKey } : {}),
          ...(run.input ? { input: run.input } : {}),
        });
        ctx.saga.stepStarted(run.step, 1);
        await work(ctx);
        ctx.saga.stepSucceeded(run.step, 1, Date.now() - began);
        await finish(tx, ctx, published);
      });
    },
  };
}
