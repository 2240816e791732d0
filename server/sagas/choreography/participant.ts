// A choreography participant: a consumer group of its own on the saga's domain topic. For
// each message it reacts to, it does its local step and writes the events that follow
// (domain events for the next participant, contract events for the dashboard) into its
// outbox, in one transaction with the step and the event id (dedupe). Offsets are
// committed only after that transaction, so a participant killed mid-step re-reads the
// message and the event id makes the second reading harmless. A message that keeps
// failing is parked (kept, reported), never allowed to block its partition.
//
// This module puts the parts together: reactions (participant-reactions.ts), operators'
// commands (participant-commands.ts), contract events (participant-reports.ts), the
// consumers (participant-consumer.ts) and the bookkeeping tables (participant-store.ts).
import { withBoundaries } from "../../db/transaction.ts";
import { countBound } from "../../events/count-bound.ts";
import {
  type DomainEvent,
  type DomainSchemas,
  decodeSagaEvent,
  newTrace,
  type SagaEvent,
} from "../../events/index.ts";
import { createPeriodic } from "../../periodic.ts";
import { createOutboxRelay } from "../outbox/outbox-relay.ts";
import { CONTROL_COMMAND, createParticipantCommands } from "./participant-commands.ts";
import { consumeTopic, type RunningConsumer } from "./participant-consumer.ts";
import { createParticipantReactions } from "./participant-reactions.ts";
import { createParticipantReports } from "./participant-reports.ts";
import { createParticipantStore } from "./participant-store.ts";
import type { Participant, ParticipantOptions, ParticipantStats } from "./participant-types.ts";

export { PARKED_CODE } from "./participant-reactions.ts";
export { DEFAULT_KEEP_TRIGGERS_MS } from "./participant-store.ts";

/** Old triggers are looked for at most this often. */
const TRIGGER_PRUNE_EVERY_MS = 3_600_000;

export type {
  Participant,
  ParticipantOptions,
  ParticipantStats,
  Reaction,
  ReactionContext,
} from "./participant-types.ts";

export function createParticipant<S extends DomainSchemas>(options: ParticipantOptions<S>): Participant<S> {
  const { choreography, pool, log, topics } = options;
  // A bound below one key is refused here, not at the first batch (where it would crash the consumer).
  if (options.keysConcurrently !== undefined) countBound("keysConcurrently", options.keysConcurrently);
  const store = createParticipantStore(pool, options.schema, options.keepTriggersMs);
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
  const reports = createParticipantReports(options);
  const reactions = createParticipantReactions({ options, store, stats, reports });
  const commands = createParticipantCommands({ options, store, stats, reports, reactions });
  const consumers: RunningConsumer[] = [];
  /** Set by stop(): a long prune ends at its next statement. */
  let stopping = false;
  const pruning = createPeriodic(
    Math.min(TRIGGER_PRUNE_EVERY_MS, store.keepTriggersMs / 4),
    async () => {
      const dropped = await store.pruneTriggers(undefined, () => !stopping);
      if (dropped > 0) log.info("old step triggers pruned", { dropped, keptForMs: store.keepTriggersMs });
    },
    (error) => log.warn("old step triggers not pruned", { error: String(error) }),
  );
  const consumer = (groupId: string, topic: string, fromBeginning: boolean) => ({
    kafka: options.kafka,
    groupId,
    topic,
    fromBeginning,
    sessionTimeoutMs: options.sessionTimeoutMs,
    partitionsConcurrently: options.partitionsConcurrently,
    keysConcurrently: options.keysConcurrently,
    log,
  });

  return {
    store,
    stats: () => ({ ...stats }),
    async start() {
      stopping = false;
      await store.init();
      // The first prune runs beside the consumers: a long-grown table never delays the start.
      pruning.start(0);
      relay.start();
      // A resume cut short (a crash while it handled the held messages) is finished first.
      for (const sagaId of await store.sagasHeldUnpaused())
        await commands.redriveParked(sagaId, { held: true });
      await consumeTopic(consumer(options.groupId, topics.domain, true), consumers, async (raw) => {
        // The owner relays an accepted retry-from on the saga's own partition, behind its messages.
        if (raw.headers.ce_type === CONTROL_COMMAND) await commands.retryFromHere(raw);
        else await reactions.react(raw);
      });
      await consumeTopic(
        consumer(`${options.groupId}.control`, topics.control, false),
        consumers,
        async (_raw, message) => {
          const decoded = decodeSagaEvent(message);
          if (!decoded.ok || decoded.event.type !== CONTROL_COMMAND) return;
          const command = decoded.event as SagaEvent<"io.sagascope.control.command">;
          if (command.data.sagaType === choreography.type && command.data.mode === "choreographed")
            await commands.obey(command);
        },
      );
    },
    async stop() {
      stopping = true;
      // Each consumer commits what it handled, finishes the messages in hand and leaves.
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
      await pruning.stop();
      await relay.stop();
    },
    async begin(run, work) {
      const began = Date.now();
      const trace = run.trace ?? newTrace();
      await withBoundaries(pool, async (tx, boundaries) => {
        await boundaries.begin();
        const origin = {
          id: `begin:${run.sagaId}`,
          source: options.source,
          type: "begin",
          time: new Date(),
          trace,
          key: run.sagaId,
          data: {},
        };
        const { ctx, published } = reactions.context(tx, origin as unknown as DomainEvent<S>, 1);
        ctx.saga.started({
          ...(run.businessKey ? { businessKey: run.businessKey } : {}),
          ...(run.input ? { input: run.input } : {}),
        });
        ctx.saga.stepStarted(run.step, 1);
        await work(ctx);
        ctx.saga.stepSucceeded(run.step, 1, Date.now() - began);
        await reactions.finish(tx, ctx, published, boundaries);
      });
    },
  };
}
