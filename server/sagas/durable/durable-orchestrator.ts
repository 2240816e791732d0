// The durable orchestrator: the saga machine with its state in Postgres. Every move is
// saved with the events it produced (outbox) in one transaction; sagas are owned under a
// lease, so several instances share the work, a restarted instance resumes where it
// stopped, and a dead instance's sagas are taken over when their lease runs out. Actions
// may run twice after a crash (that is why participants are idempotent), never zero times.
import type { Consumer, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import { decodeSagaEvent, newTrace, type SagaEvent } from "../../events/index.ts";
import { createConsumer, runConsumer } from "../../events/kafka-client.ts";
import type { Logger } from "../../log.ts";
import type { SagaDefinition } from "../definition.ts";
import { outcomeOf, performMove, type SagaOutcome, type SagaRun } from "../orchestrator.ts";
import { createOutboxRelay } from "../outbox/outbox-relay.ts";
import { applyControl, type ControlRequest, controlResultEvent } from "../saga-control.ts";
import { beginMove, completeMove, isFinished, nextMove, type SagaState, startSaga } from "../saga-machine.ts";
import { createSagaStore } from "./saga-store.ts";

export interface DurableOrchestratorOptions<Input> {
  pool: Pool;
  databaseUrl: string;
  /** The orchestrator's own schema; instances sharing it share the sagas. */
  schema: string;
  definition: SagaDefinition<Input>;
  /** CloudEvents source of the events. */
  source: string;
  /** This instance's identity, unique among the instances. */
  owner: string;
  producer: Producer;
  /** Where its saga events go, and where control commands come from and results go. */
  topics: { sagaEvents: string; control: string };
  /** Obeys control commands for its saga type when given (one consumer group per schema). */
  kafka?: Kafka;
  log: Logger;
  leaseMs?: number;
  concurrency?: number;
  pollMs?: number;
  onFinished?: (sagaId: string, outcome: SagaOutcome) => void;
}

export interface DurableOrchestrator<Input> {
  start(): Promise<void>;
  stop(): Promise<void>;
  startSaga(run: SagaRun<Input>): Promise<void>;
  stats(): { active: number; finished: number; lostOwnership: number };
}

export function createDurableOrchestrator<Input extends Record<string, unknown>>(
  options: DurableOrchestratorOptions<Input>,
): DurableOrchestrator<Input> {
  const { definition, owner, log } = options;
  const leaseMs = options.leaseMs ?? 10_000;
  const concurrency = options.concurrency ?? 32;
  const pollMs = options.pollMs ?? 100;
  const longestStep = Math.max(...definition.steps.map((s) => s.timeoutMs));
  if (leaseMs < longestStep + 1000) {
    throw new AppError(
      "BAD_REQUEST",
      `the lease (${leaseMs} ms) must outlast the longest step timeout (${longestStep} ms) by a second`,
    );
  }
  const store = createSagaStore(options.pool, options.schema, options.topics);
  const relay = createOutboxRelay({
    databaseUrl: options.databaseUrl,
    outbox: store,
    producer: options.producer,
    name: options.schema,
    log,
  });
  const active = new Map<string, Promise<void>>();
  const counters = { finished: 0, lostOwnership: 0 };
  let running = false;
  let poller: NodeJS.Timeout | undefined;
  let controlConsumer: Consumer | undefined;
  const ctx = () => ({ source: options.source, now: Date.now() });

  async function drive(initial: SagaState): Promise<void> {
    let state = initial;
    const save = (
      next: SagaState,
      events: Parameters<typeof store.save>[2],
      delayMs: number,
      beginning = false,
    ) => store.save(owner, next, events, { leaseMs, delayMs, beginning });
    for (let move = nextMove(state); move && running; move = nextMove(state)) {
      const begun = beginMove(definition, state, move, ctx());
      if ((await save(begun.state, begun.events, 0, true)) !== "saved") break;
      // The lease is renewed while the move runs, so a slow call is not taken over mid-flight.
      const renewal = setInterval(() => {
        void store.renew(owner, state.sagaId, leaseMs).catch(() => {});
      }, leaseMs / 3);
      const outcome = await performMove(definition, begun.state, move, begun.traceparent).finally(() =>
        clearInterval(renewal),
      );
      const done = completeMove(definition, begun.state, move, outcome, ctx());
      const saved = await save(done.state, done.events, done.delayMs);
      if (saved === "lost") {
        counters.lostOwnership += 1;
        log.warn("lost a saga to another instance", { sagaId: state.sagaId });
        return;
      }
      // Paused while the move ran: it finished, and nothing after it starts until resumed.
      if (saved === "paused") return;
      state = done.state;
      // A retry waits in the database, not here: whoever owns the saga then runs it.
      if (done.delayMs > 0) return;
    }
    if (isFinished(state)) {
      counters.finished += 1;
      const outcome = outcomeOf(state);
      if (outcome) options.onFinished?.(state.sagaId, outcome);
    }
  }

  /**
   * Set when due sagas may be waiting for a free slot (a claim filled every slot, or a saga
   * started while all were taken): then a slot freed claims again at once, not at the next poll.
   */
  let mayHaveMore = false;

  /** Drives a saga this instance owns in a free slot; false when every slot is taken (or it already runs). */
  function occupy(sagaId: string, state: SagaState): boolean {
    if (active.has(sagaId) || active.size >= concurrency) return false;
    const work = drive(state)
      .catch((error) => log.error("saga move failed; it will be retried", { sagaId, error }))
      .finally(() => {
        active.delete(sagaId);
        if (mayHaveMore && running) void tick();
      });
    active.set(sagaId, work);
    return true;
  }

  let tickInProgress: Promise<void> | undefined;
  let tickAgain = false;
  function tick(): Promise<void> {
    // A tick asked for during one runs after it: a slot freed meanwhile is not left to the poll.
    if (tickInProgress) {
      tickAgain = true;
      return tickInProgress;
    }
    tickInProgress = claimAndDrive().finally(() => {
      tickInProgress = undefined;
      if (tickAgain) {
        tickAgain = false;
        void tick();
      }
    });
    return tickInProgress;
  }

  async function claimAndDrive() {
    if (!running) return;
    try {
      const free = concurrency - active.size;
      if (free <= 0) return;
      const claimed = await store.claim(owner, free, leaseMs, [...active.keys()]);
      mayHaveMore = claimed.length === free;
      // A saga started meanwhile may have taken a slot: one claimed but not driven stays ours
      // and due, and the next slot freed claims it again.
      for (const { sagaId, state } of claimed) if (!occupy(sagaId, state)) mayHaveMore = true;
    } catch (error) {
      log.warn("could not claim sagas", { error });
    }
  }

  /**
   * Applies one command, waiting (up to two leases) for a move in flight to end first; a pause
   * or resume does not wait (it only decides whether the next move starts).
   */
  async function obey(command: SagaEvent<"io.sagascope.control.command">): Promise<void> {
    const d = command.data;
    const request: ControlRequest = {
      commandId: d.commandId,
      action: d.action,
      ...(d.fromStep !== undefined ? { fromStep: d.fromStep } : {}),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.requestedBy ? { requestedBy: d.requestedBy } : {}),
      ...(d.input ? { input: d.input } : {}),
    };
    const deadline = Date.now() + 2 * leaseMs;
    for (;;) {
      const busyTooLong = Date.now() > deadline;
      const applied = await store.control(d.sagaId, d.commandId, d.action, (state, moveInFlight) => {
        const now = { ...ctx(), handledBy: owner };
        const decision = !state
          ? { outcome: "refused" as const, message: `no saga ${d.sagaId} in ${options.schema}` }
          : busyTooLong
            ? {
                outcome: "refused" as const,
                message: `a move has been in flight for over ${2 * leaseMs} ms; try again`,
              }
            : applyControl(definition, state, request, now, { moveInFlight });
        const ref = state ?? { sagaId: d.sagaId, sagaType: d.sagaType, trace: command.trace };
        const result = controlResultEvent(ref, request, decision, now);
        return decision.outcome === "done"
          ? { ...decision, events: [...decision.events, result] }
          : { ...decision, events: [result] };
      });
      if (applied !== "busy") {
        if (applied !== "duplicate") {
          log.info("control command", { sagaId: d.sagaId, action: d.action, ...applied });
          void tick();
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function isOurs(message: KafkaMessage): SagaEvent<"io.sagascope.control.command"> | undefined {
    // Malformed messages are the ingester's to quarantine; others' sagas are not ours.
    const decoded = decodeSagaEvent(message);
    if (!decoded.ok || decoded.event.type !== "io.sagascope.control.command") return undefined;
    const command = decoded.event as SagaEvent<"io.sagascope.control.command">;
    const ours = command.data.sagaType === definition.type && command.data.mode === "orchestrated";
    return ours ? command : undefined;
  }

  const controlGroup = `${options.schema}.control`;
  /** Per control partition, the next offset this instance has handled. */
  const handled = new Map<number, bigint>();

  async function startControl(kafka: Kafka) {
    const consumer = createConsumer(kafka, {
      groupId: controlGroup,
      allowAutoTopicCreation: false,
    });
    controlConsumer = consumer;
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    // From the beginning when the group has no offset yet: a command sent while no
    // instance ran (all crashed) is obeyed when one comes back; command ids make a re-read harmless.
    await runConsumer(
      consumer,
      { topics: [options.topics.control], fromBeginning: true },
      {
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const command = isOurs(message);
          if (command) await obey(command);
          // Committed only once the command's effect is saved: a crash re-reads it, and the
          // command id makes the second reading a no-op.
          const next = BigInt(message.offset) + 1n;
          await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
          handled.set(partition, next);
        },
      },
      log,
      () => controlConsumer !== consumer,
    );
    await joined;
  }

  /**
   * Waits (bounded) until the commands already waiting on the control topic are handled, so
   * that an operator's decision made while no instance ran (compensate a stuck saga) wins
   * over this instance resuming that saga on its own.
   */
  async function handleWaitingCommands(kafka: Kafka, timeoutMs: number) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = options.topics.control;
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: controlGroup, topics: [topic] }),
      ]);
      const from = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)] as const),
      );
      const waiting = ends.filter((e) => {
        const start = from.get(e.partition) ?? -1n;
        return (start < 0n ? BigInt(e.low) : start) < BigInt(e.high);
      });
      const deadline = Date.now() + timeoutMs;
      const caughtUp = () => waiting.every((e) => (handled.get(e.partition) ?? -1n) >= BigInt(e.high));
      while (!caughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (!caughtUp()) log.warn("control commands still waiting; resuming sagas anyway", { timeoutMs });
    } finally {
      await admin.disconnect();
    }
  }

  return {
    async start() {
      await store.init();
      running = true;
      relay.start();
      if (options.kafka) {
        await startControl(options.kafka);
        await handleWaitingCommands(options.kafka, 15_000).catch((error) =>
          log.warn("could not check for waiting control commands", { error: String(error) }),
        );
      }
      poller = setInterval(() => void tick(), pollMs);
      void tick();
    },
    async stop() {
      running = false;
      clearInterval(poller);
      await controlConsumer?.disconnect();
      controlConsumer = undefined;
      // A claim in flight lands first; moves in progress finish and are saved; then every
      // saga this instance holds is handed back at once.
      await tickInProgress;
      await Promise.allSettled([...active.values()]);
      await store.releaseAll(owner).catch((error) => log.warn("could not hand back sagas", { error }));
      await relay.stop();
    },
    async startSaga(run) {
      const started = startSaga(definition, { ...run, trace: run.trace ?? newTrace() }, ctx());
      await store.create(started.state, started.events, owner, leaseMs);
      // Created owned by this instance: driven at once in a free slot, without a claim;
      // otherwise a claim takes it when a slot frees.
      if (!running || !occupy(started.state.sagaId, started.state)) {
        mayHaveMore = true;
        void tick();
      }
    },
    stats: () => ({ active: active.size, ...counters }),
  };
}
