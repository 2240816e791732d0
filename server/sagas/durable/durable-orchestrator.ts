// The durable orchestrator: the saga machine with its state in Postgres. Every move is
// saved with the events it produced (outbox) in one transaction; sagas are owned under a
// lease, so several instances share the work, a restarted instance resumes where it
// stopped, and a dead instance's sagas are taken over when their lease runs out. Actions
// may run twice after a crash (that is why participants are idempotent), never zero times.
import type { Producer } from "kafkajs";
import type { Pool } from "../../db/pool.ts";
import { AppError } from "../../errors.ts";
import { newTrace } from "../../events/index.ts";
import type { Logger } from "../../log.ts";
import type { SagaDefinition } from "../definition.ts";
import { outcomeOf, performMove, type SagaOutcome, type SagaRun } from "../orchestrator.ts";
import { beginMove, completeMove, isFinished, nextMove, type SagaState, startSaga } from "../saga-machine.ts";
import { createOutboxRelay } from "./outbox-relay.ts";
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
  topic: string;
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
  const store = createSagaStore(options.pool, options.schema, options.topic);
  const relay = createOutboxRelay({
    databaseUrl: options.databaseUrl,
    store,
    producer: options.producer,
    name: options.schema,
    log,
  });
  const active = new Map<string, Promise<void>>();
  const counters = { finished: 0, lostOwnership: 0 };
  let running = false;
  let poller: NodeJS.Timeout | undefined;
  const ctx = () => ({ source: options.source, now: Date.now() });

  async function drive(initial: SagaState): Promise<void> {
    let state = initial;
    const save = (next: SagaState, events: Parameters<typeof store.save>[2], delayMs: number) =>
      store.save(owner, next, events, { leaseMs, delayMs });
    for (let move = nextMove(state); move && running; move = nextMove(state)) {
      const begun = beginMove(definition, state, move, ctx());
      if (!(await save(begun.state, begun.events, 0))) break;
      // The lease is renewed while the move runs, so a slow call is not taken over mid-flight.
      const renewal = setInterval(() => {
        void store.renew(owner, state.sagaId, leaseMs).catch(() => {});
      }, leaseMs / 3);
      const outcome = await performMove(definition, begun.state, move, begun.traceparent).finally(() =>
        clearInterval(renewal),
      );
      const done = completeMove(definition, begun.state, move, outcome, ctx());
      if (!(await save(done.state, done.events, done.delayMs))) {
        counters.lostOwnership += 1;
        log.warn("lost a saga to another instance", { sagaId: state.sagaId });
        return;
      }
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

  let tickInProgress: Promise<void> | undefined;
  function tick(): Promise<void> {
    tickInProgress ??= claimAndDrive().finally(() => {
      tickInProgress = undefined;
    });
    return tickInProgress;
  }

  async function claimAndDrive() {
    if (!running) return;
    try {
      const free = concurrency - active.size;
      if (free <= 0) return;
      for (const { sagaId, state } of await store.claim(owner, free, leaseMs, [...active.keys()])) {
        if (active.has(sagaId)) continue;
        const work = drive(state)
          .catch((error) => log.error("saga move failed; it will be retried", { sagaId, error }))
          .finally(() => active.delete(sagaId));
        active.set(sagaId, work);
      }
    } catch (error) {
      log.warn("could not claim sagas", { error });
    }
  }

  return {
    async start() {
      await store.init();
      running = true;
      relay.start();
      poller = setInterval(() => void tick(), pollMs);
      void tick();
    },
    async stop() {
      running = false;
      clearInterval(poller);
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
      void tick();
    },
    stats: () => ({ active: active.size, ...counters }),
  };
}
