// `npm run bench:sagas [-- --sagas N] [-- --in-flight N] [-- --warm-up-seconds S] [-- --profile DIR]`: sagas per second on
// this machine in each mode, and how long a saga takes under that load (p50/p95/p99 from its
// start to its end). Every mode is driven alike: 32 sagas in flight (or --in-flight), a new one
// started as soon as one ends.
// Orchestrated transfers with banks over real gRPC, events to the real broker; baseline in
// the same run: the in-memory runner (no saved state); then the durable orchestrator (state
// and outbox in Postgres) with one and with two instances; then the choreographed checkout
// (four participants over Kafka, each with its own outbox). The durable orchestrator and the
// checkout also run with their exporter on: the process's Prometheus registry served over HTTP
// and scraped every second (the saga metrics and traces are the ingester's: bench:ingest).
// With --profile, one more run of each (not timed) is CPU-profiled there. Prints figures,
// asserts nothing.
import { hostname } from "node:os";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { createPool, type Pool } from "../../server/db/pool.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import { ensureTopics, topics } from "../../server/events/index.ts";
import { noFaults } from "../../server/fault-switches/faults.ts";
import { createBankGrpcClient } from "../../server/fleet/bank/bank-grpc-client.ts";
import { createBankGrpcServer } from "../../server/fleet/bank/bank-grpc-server.ts";
import { createBankStore } from "../../server/fleet/bank/bank-store.ts";
import { createCheckoutParticipant } from "../../server/fleet/checkout/checkout-participant.ts";
import { CHECKOUT_SERVICES, checkoutTopic, randomOrder } from "../../server/fleet/checkout/checkout-saga.ts";
import { createGuard } from "../../server/fleet/checkout/guard.ts";
import { placeOrder } from "../../server/fleet/checkout/order-service.ts";
import { createTransferWorld, openingAccounts } from "../../server/fleet/transfer/transfer-world.ts";
import { createLogger } from "../../server/log.ts";
import { startMetricsServer } from "../../server/metrics/metrics-server.ts";
import { changeTopic } from "../../server/projections/change-events.ts";
import { createDurableOrchestrator } from "../../server/sagas/durable/durable-orchestrator.ts";
import { createKafkaEventSink, runSaga } from "../../server/sagas/index.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";
import { formatProfile, withCpuProfile } from "./cpu-profile.ts";
import { formatCpuPerUnit, formatCpuSplit } from "./cpu-split.ts";
import { option } from "./option.ts";
import { formatDurations, type LaneRun, runInLanes } from "./saga-lanes.ts";

const args = z
  .object({
    sagas: z.coerce.number().int().min(50).max(100_000).default(600),
    // Sagas in flight in every mode: 1 measures a saga's own duration, without others queued beside it.
    inFlight: z.coerce.number().int().min(1).max(256).default(32),
    // Every mode run in turn, unmeasured, for at least this long before the timed runs (0: once).
    warmUpSeconds: z.coerce.number().int().min(0).max(600).default(60),
    // A directory: an extra, untimed run of the durable orchestrator and of the checkout is CPU-profiled there.
    profile: z.string().min(1).optional(),
  })
  .parse({
    sagas: option("sagas"),
    inFlight: option("in-flight"),
    warmUpSeconds: option("warm-up-seconds"),
    profile: option("profile"),
  });
const { sagas } = args;
/** Sagas in flight in every mode. */
const CONCURRENCY = args.inFlight;
const WARM_UP = 100;
const log = createLogger("bench", "error");

/**
 * Runs `work` with a process registry (Node's default metrics) served on 127.0.0.1 and
 * scraped over HTTP every second, as Prometheus would.
 */
/**
 * Off, on, on, off: a machine that speeds up or slows down during the runs favours neither.
 * The CPU split and the durations are the first run's (metrics off).
 */
async function offAndOn(label: string, count: number, run: () => Promise<LaneRun>) {
  const runs: { on: boolean; ms: number }[] = [];
  let first: LaneRun | undefined;
  for (const on of [false, true, true, false]) {
    const timed = await step(`${label}, metrics ${on ? "on" : "off"}`, () =>
      on ? withMetricsOn(run) : run(),
    );
    first ??= timed;
    runs.push({ on, ms: timed.ms });
  }
  const mean = (on: boolean) => runs.filter((r) => r.on === on).reduce((n, r) => n + r.ms / 2, 0);
  return { offMs: mean(false), onMs: mean(true), runs, count, first: first as LaneRun };
}

async function withMetricsOn<T>(work: () => Promise<T>): Promise<T> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = await startMetricsServer({
    registry,
    role: "bench",
    host: "127.0.0.1",
    port: 0,
    checks: () => [],
    log,
  });
  const scraper = setInterval(
    () => void fetch(`http://127.0.0.1:${server.port}/metrics`).then((r) => r.text()),
    1000,
  );
  try {
    return await work();
  } finally {
    clearInterval(scraper);
    await server.close();
  }
}

async function main() {
  const plan = testPlan(env());
  const { startedBroker } = await infraUp(plan);
  const fleetUrl = siblingDatabase(plan.databaseUrl, "_bench_fleet");
  try {
    await step("creating a fresh fleet database", () => recreateDatabase(fleetUrl));
    const pool = createPool(fleetUrl, 20);
    const kafka = new Kafka({
      clientId: "bench-sagas",
      brokers: plan.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const topic = `bench-sagas-${Date.now().toString(36)}.sagascope.saga-events`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 6);
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    const banks = await Promise.all(
      (["bank-a", "bank-b"] as const).map(async (name) => {
        const store = createBankStore(pool, name.replace("-", "_"));
        await store.init(openingAccounts(name));
        const server = createBankGrpcServer(store, noFaults, log);
        const port = await server.start("127.0.0.1:0");
        return { server, client: createBankGrpcClient(`127.0.0.1:${port}`, 2000) };
      }),
    );
    const [a, b] = banks as [(typeof banks)[0], (typeof banks)[0]];
    const world = createTransferWorld({ bankA: a.client, bankB: b.client });
    const failureRate = 0.15;

    const inMemory = (count: number) => {
      const emit = createKafkaEventSink(producer, topic);
      return runInLanes(count, CONCURRENCY, async () => {
        const began = performance.now();
        await runSaga(world.saga, world.randomTransfer(failureRate), { emit, source: "/bench" });
        return performance.now() - began;
      });
    };

    const durable = async (instances: number, count = sagas): Promise<LaneRun> => {
      const schema = `bench_orchestrator_${instances}`;
      const finished = new Map<string, () => void>();
      const orchestrators = Array.from({ length: instances }, (_, i) =>
        createDurableOrchestrator({
          pool,
          databaseUrl: fleetUrl,
          schema,
          definition: world.saga,
          source: "/bench",
          owner: `bench-${i}@${hostname()}`,
          producer,
          topics: { sagaEvents: topic, control: `${topic}.control` },
          log,
          concurrency: CONCURRENCY,
          pollMs: 20,
          onFinished: (sagaId) => finished.get(sagaId)?.(),
        }),
      );
      for (const o of orchestrators) await o.start();
      const run = await runInLanes(count, CONCURRENCY, async (i) => {
        const transfer = world.randomTransfer(failureRate);
        const ended = new Promise<void>((resolve) => finished.set(transfer.sagaId, resolve));
        const began = performance.now();
        await (orchestrators[i % instances] as (typeof orchestrators)[0]).startSaga(transfer);
        await ended;
        finished.delete(transfer.sagaId);
        return performance.now() - began;
      });
      for (const o of orchestrators) await o.stop();
      return run;
    };
    const checkoutSagas = Math.max(50, Math.round(sagas / 2));
    const checkout = (count: number) => () =>
      choreographed({ kafka, producer, pool, fleetUrl, sagas: count, failureRate });
    // Unmeasured first, every mode in turn until the warm-up's time is up: the first sagas of a
    // process pay for compiling its code paths, and a broker started for this run is a young
    // JVM whose JIT compiles the produce and fetch paths in its first minutes (measured: the
    // same bench run twice on one broker, the second time the in-memory runner went from 80 to
    // 118 sagas/s and the broker's CPU a checkout saga from 11 to 4.4 ms).
    await step(`warming up the broker and every mode (${args.warmUpSeconds} s)`, async () => {
      const until = Date.now() + args.warmUpSeconds * 1000;
      do {
        await inMemory(WARM_UP);
        await durable(1, WARM_UP);
        await checkout(WARM_UP)();
      } while (Date.now() < until);
    });
    // Statistics for the tables the warm-up filled: otherwise autovacuum analyzes them during
    // the first measured run, whose plans before that are a fresh table's.
    await pool.query("ANALYZE");
    const memory = await step(`in-memory runner: ${sagas} sagas, ${CONCURRENCY} at a time`, () =>
      inMemory(sagas),
    );
    const inMemoryMs = memory.ms;
    const one = await offAndOn("durable orchestrator, 1 instance", sagas, () => durable(1));
    const two = await step("durable orchestrator, 2 instances", () => durable(2));
    const twoMs = two.ms;
    const chor = await offAndOn(
      `choreographed checkout, ${checkoutSagas} sagas over Kafka`,
      checkoutSagas,
      checkout(checkoutSagas),
    );
    // Under the profiler (which slows them), so not among the timed runs.
    const profiled = args.profile
      ? {
          durable: await step("durable orchestrator under the CPU profiler (not timed)", () =>
            withCpuProfile(args.profile, "durable-orchestrator", () => durable(1)),
          ),
          checkout: await step("choreographed checkout under the CPU profiler (not timed)", () =>
            withCpuProfile(args.profile, "choreographed-checkout", checkout(checkoutSagas)),
          ),
        }
      : undefined;

    for (const bank of banks) {
      bank.client.close();
      await bank.server.stop();
    }
    await producer.disconnect();
    await pool.end();
    const rate = (ms: number, count = sagas) => ((count / ms) * 1000).toFixed(0);
    console.log("\nbench:sagas (inter-bank transfers, 2 steps, 15 % compensated, banks over gRPC)");
    console.log(
      `  in-memory runner (baseline)   ${rate(inMemoryMs)} sagas/s  (${sagas} in ${inMemoryMs.toFixed(0)} ms)`,
    );
    console.log(
      `  durable, 1 instance           ${rate(one.offMs)} sagas/s  (ratio to baseline ${(inMemoryMs / one.offMs).toFixed(2)})`,
    );
    console.log(
      `  durable, 2 instances          ${rate(twoMs)} sagas/s  (ratio to baseline ${(inMemoryMs / twoMs).toFixed(2)})`,
    );
    const chorRate = (ms: number) => rate(ms, checkoutSagas);
    console.log(
      `  choreographed checkout        ${chorRate(chor.offMs)} sagas/s  (4 steps, 4 participants over Kafka; ratio to baseline ${((inMemoryMs / sagas) * (checkoutSagas / chor.offMs)).toFixed(2)})`,
    );
    console.log("  exporter on (the process's metrics served and scraped every second), same run:");
    for (const [name, figures, perRun] of [
      ["durable, 1 instance", one, rate],
      ["choreographed checkout", chor, chorRate],
    ] as const)
      console.log(
        `    ${name.padEnd(24)}  ${perRun(figures.onMs)} sagas/s on, ${perRun(figures.offMs)} off: ratio on/off ${(figures.offMs / figures.onMs).toFixed(2)} (runs ${figures.runs.map((r) => `${perRun(r.ms)} ${r.on ? "on" : "off"}`).join(", ")})`,
      );
    console.log(`  saga duration under that load (${CONCURRENCY} in flight; start to end), same runs:`);
    for (const [name, durations] of [
      ["in-memory runner", memory.durations],
      ["durable, 1 instance", one.first.durations],
      ["durable, 2 instances", two.durations],
      ["choreographed checkout", chor.first.durations],
    ] as const)
      console.log(`    ${name.padEnd(24)}  ${formatDurations(durations)}`);
    console.log("  CPU of the machine (the first timed run of each, from its first saga to its last):");
    for (const [name, run] of [
      ["in-memory runner", memory],
      ["durable, 1 instance", one.first],
      ["choreographed checkout", chor.first],
    ] as const) {
      console.log(`    ${name.padEnd(24)}  ${formatCpuSplit(run.cpu, "bench (runtime, banks)")}`);
      const perSaga = { ms: run.ms, units: run.durations.length };
      console.log(`    ${"".padEnd(24)}  ${formatCpuPerUnit(run.cpu, perSaga, "bench", "a saga")}`);
    }
    for (const [name, p] of [
      ["durable, 1 instance", profiled?.durable],
      ["choreographed checkout", profiled?.checkout],
    ] as const)
      if (p?.profile) console.log(`  CPU profile, ${name} (${p.file}):\n${formatProfile(p.profile)}`);
    say("done");
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

/** Four checkout participants in this process; 32 orders in flight until `sagas` have ended. */
async function choreographed(deps: {
  kafka: Kafka;
  producer: Producer;
  pool: Pool;
  fleetUrl: string;
  sagas: number;
  failureRate: number;
}): Promise<LaneRun> {
  const prefix = `bench-checkout-${Date.now().toString(36)}.`;
  const admin = deps.kafka.admin();
  await admin.connect();
  const contract = topics(prefix);
  await ensureTopics(
    admin,
    [
      checkoutTopic(prefix),
      ...CHECKOUT_SERVICES.map((s) => changeTopic(prefix, s)),
      contract.sagaEvents,
      contract.control,
      contract.deadLetters,
    ],
    6,
  );
  await admin.disconnect();
  const services = CHECKOUT_SERVICES.map((service) =>
    createCheckoutParticipant(service, {
      pool: deps.pool,
      databaseUrl: deps.fleetUrl,
      kafka: deps.kafka,
      producer: deps.producer,
      topicPrefix: prefix,
      guard: createGuard(service, noFaults),
      log,
    }),
  );
  for (const s of services) await s.init();
  for (const s of services) await s.participant.start();
  const { participant: order, changes } = services[0] as (typeof services)[0];
  const ends = watchOrderEnds(deps.pool);
  // One order through first, unmeasured: the participants have joined their groups and been
  // given partitions (seconds of rebalancing that would otherwise count as throughput).
  await ends.ended(await placeOrder(order, randomOrder(0), changes));
  const run = await runInLanes(deps.sagas, CONCURRENCY, async () =>
    ends.ended(await placeOrder(order, randomOrder(deps.failureRate), changes)),
  );
  await ends.stop();
  for (const s of services) await s.participant.stop();
  return run;
}

/**
 * Waits for checkout orders to end (confirmed or cancelled), reading the store every 10 ms;
 * each resolves with its saga's duration by the store's own clock (placed to ended), so the
 * reading's interval adds nothing to the figure.
 */
function watchOrderEnds(pool: Pool) {
  const waiting = new Map<string, (ms: number) => void>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (waiting.size > 0) {
        const r = await pool.query<{ order_id: string; ms: number }>(
          `SELECT order_id, extract(epoch FROM ended_at - placed_at) * 1000 AS ms
           FROM checkout_order.customer_order WHERE order_id = ANY($1) AND ended_at IS NOT NULL`,
          [[...waiting.keys()]],
        );
        for (const row of r.rows) {
          waiting.get(row.order_id)?.(Number(row.ms));
          waiting.delete(row.order_id);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    ended: (orderId: string) => new Promise<number>((resolve) => waiting.set(orderId, resolve)),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:sagas failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
