// `npm run bench:ingest [-- --events N]`: how fast the ingester stores saga events, against
// a baseline measured in the same run on the same messages: a consumer that only decodes
// and validates them (the ceiling Kafka and the contract allow on this machine), and a raw
// Postgres COPY of the very rows the ingester stored into the same tables (the ceiling of the
// store itself).
// Uses the test profile's broker and a fresh database of its own; prints figures, asserts nothing.
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel, type Message, Partitioners } from "kafkajs";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { migrate } from "../../server/db/migrate.ts";
import { createPool, type Pool, type PoolClient } from "../../server/db/pool.ts";
import { withTransaction } from "../../server/db/transaction.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import {
  decodeSagaEvent,
  encodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
} from "../../server/events/index.ts";
import { createIngestMetrics } from "../../server/ingest/ingest-metrics.ts";
import { createIngester, type IngestCounters, PARTITIONS_AT_ONCE } from "../../server/ingest/ingester.ts";
import { type IncomingEvent, storeBatch } from "../../server/ingest/store-batch.ts";
import { insertSagaEvents, sagaEventRow } from "../../server/ingest/store-saga-events.ts";
import { createLogger } from "../../server/log.ts";
import { createOtlpExporter, createSagaTraceExporter } from "../../server/telemetry/saga-trace-exporter.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";
import { backendCpuOf } from "./backend-cpu.ts";
import { formatProfile, summarizeProfile, withCpuProfile } from "./cpu-profile.ts";
import { type CpuSplit, formatCpuPerUnit, formatCpuSplit, startCpuSplit } from "./cpu-split.ts";
import { holdMessages, waitForSettledGroup } from "./held-topic.ts";
import { option } from "./option.ts";
import { copyRowsBack, takeRows } from "./raw-copy.ts";

const args = z
  .object({
    events: z.coerce.number().int().min(1000).max(5_000_000).default(60_000),
    // "off" times the ingester alone (`pairs` runs), for a quicker look at the store path.
    exporters: z.enum(["all", "off"]).default("all"),
    // With --exporters off: ingester runs, each followed by the raw COPY of its rows. A run of
    // 60 000 events takes seconds, and this machine's pace moves by a fifth from one minute to
    // the next: the ratio is given as the median of the pairs, with their range.
    pairs: z.coerce.number().int().min(2).max(40).default(6),
    // A directory: an extra, untimed run of the ingester (and of two ingester processes) is CPU-profiled there.
    profile: z.string().min(1).optional(),
    // SAGASCOPE_INGEST_PARTITIONS_AT_ONCE for the ingesters measured (the topic has six partitions).
    "partitions-at-once": z.coerce.number().int().min(1).max(32).default(PARTITIONS_AT_ONCE),
  })
  .parse({
    events: option("events"),
    exporters: option("exporters"),
    pairs: option("pairs"),
    profile: option("profile"),
    "partitions-at-once": option("partitions-at-once"),
  });
const partitionsAtOnce = args["partitions-at-once"];
/** A connection per partition stored at once, and two for the bench's own statements and the trace export. */
const poolSize = partitionsAtOnce + 2;

/** One transfer-like saga: started, two steps, completed: 6 events. */
function saga(): SagaEvent[] {
  const sagaId = `bench-${randomUUID()}`;
  const o = { source: "/bench", trace: newTrace() };
  const base = { sagaId, sagaType: "bench-transfer", mode: "orchestrated" as const };
  const a = { ...base, step: "debit", stepIndex: 0, service: "bank-a" };
  const b = { ...base, step: "credit", stepIndex: 1, service: "bank-b" };
  return [
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...base,
        steps: [
          { name: "debit", service: "bank-a" },
          { name: "credit", service: "bank-b" },
        ],
        input: { amount: 10 },
      },
      o,
    ),
    sagaEvent("io.sagascope.saga.step.started", a, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...a, durationMs: 3 }, o),
    sagaEvent("io.sagascope.saga.step.started", b, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...b, durationMs: 4 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 9 }, o),
  ];
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

/**
 * The store statement as it was before identities (deduplicating on the primary key id +
 * time, which lets a redelivery with a new time in): the baseline of the identity claim's cost.
 */
async function insertOnPrimaryKey(client: Pick<Pool, "query">, events: SagaEvent[]): Promise<void> {
  const rows = events.map((e, offset) => sagaEventRow(e, { topic: "bench", partition: 0, offset }));
  await client.query(
    `INSERT INTO saga_event (id, time, source, type, saga_id, saga_type, trace_id, span_id, step, step_index,
                             service, data, kafka_topic, kafka_partition, kafka_offset)
     SELECT id, time, source, type, saga_id, saga_type, trace_id, span_id, step, step_index, service, data,
            'bench', 0, kafka_offset
     FROM json_to_recordset($1::json) AS r(id text, time timestamptz, source text, type text, saga_id text,
          saga_type text, trace_id text, span_id text, step text, step_index int, service text, data jsonb,
          kafka_offset bigint)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

const DEDUPE_BATCH = 500;

/**
 * The same batches stored twice each way, alternating, into emptied tables: the saga_event
 * insert alone, and with the identity claimed first (what the ingester does). Best of two.
 */
async function dedupeCost(pool: Pool, events: SagaEvent[]): Promise<{ withoutMs: number; withMs: number }> {
  const batches: SagaEvent[][] = [];
  for (let i = 0; i < events.length; i += DEDUPE_BATCH) batches.push(events.slice(i, i + DEDUPE_BATCH));
  const timed = async (store: (client: PoolClient, batch: SagaEvent[]) => Promise<unknown>) => {
    await pool.query("TRUNCATE saga_event, saga_event_identity");
    const began = Date.now();
    for (const batch of batches) await withTransaction(pool, (client) => store(client, batch));
    return Date.now() - began;
  };
  const without = (client: PoolClient, batch: SagaEvent[]) => insertOnPrimaryKey(client, batch);
  const claimed = (client: PoolClient, batch: SagaEvent[]) =>
    insertSagaEvents(
      client,
      batch.map((event, offset) => ({ event, position: { topic: "bench", partition: 0, offset } })),
    );
  const rounds = [await timed(without), await timed(claimed), await timed(without), await timed(claimed)];
  return {
    withoutMs: Math.min(rounds[0] as number, rounds[2] as number),
    withMs: Math.min(rounds[1] as number, rounds[3] as number),
  };
}

/** Batches the store's backend is measured on: about what one partition's fetch holds at this rate. */
const BACKEND_BATCH = 1500;
/** The tables a store of saga events writes, as the raw COPY baselines copy them back. */
const STORE_TABLES = ["saga_event", "saga_event_identity", "saga_summary", "saga_vocabulary"];

/**
 * Postgres's own CPU an event (one backend, read from /proc): the ingester's store of the
 * events in batches, then the raw COPY of the very rows it stored, alternating, three rounds;
 * medians. Undefined when Postgres runs elsewhere. Steadier than the machine-wide split: it
 * leaves out this process, the broker and whatever else the machine does.
 */
async function backendCost(
  databaseUrl: string,
  pool: Pool,
  events: SagaEvent[],
): Promise<{ storeUs: number; copyUs: number } | undefined> {
  const one = createPool(databaseUrl, 1);
  try {
    const client = await one.connect();
    const backend = await backendCpuOf(client).finally(() => client.release());
    if (!backend) return undefined;
    const batches: IncomingEvent[][] = [];
    for (let i = 0; i < events.length; i += BACKEND_BATCH)
      batches.push(
        events
          .slice(i, i + BACKEND_BATCH)
          .map((event, n) => ({ event, position: { topic: "bench", partition: 0, offset: i + n } })),
      );
    const store: number[] = [];
    const copy: number[] = [];
    let rows: Awaited<ReturnType<typeof takeRows>> | undefined;
    for (let round = 0; round < 3; round++) {
      const { rows: same } = await one.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      if (same[0]?.pid !== backend.pid)
        throw new Error("the measured connection was replaced between rounds");
      await pool.query(`TRUNCATE ${STORE_TABLES.join(", ")}`);
      let before = await backend.spentUs();
      for (const batch of batches) await storeBatch(one, { events: batch });
      store.push((await backend.spentUs()) - before);
      rows ??= await takeRows(pool, STORE_TABLES);
      // copyRowsBack empties the tables first on the same connection: a few ms, counted here.
      before = await backend.spentUs();
      await copyRowsBack(one, rows);
      copy.push((await backend.spentUs()) - before);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1] as number;
    return { storeUs: median(store) / events.length, copyUs: median(copy) / events.length };
  } finally {
    await one.end();
  }
}

function withDefaultMetrics(registry: Registry): Registry {
  collectDefaultMetrics({ register: registry });
  return registry;
}

interface ProcessRun {
  processes: number;
  /** The events stored in the timed window: all of them (the window opens as they become readable). */
  events: number;
  ms: number;
  /** Events each process stored in all. */
  split: number[];
  /**
   * Events handed again and recognised as copies: the batches a process had not committed
   * when its group rebalanced. None while the group stays as it settled.
   */
  copies: number;
  cpu: CpuSplit;
}

/**
 * The ingester in `processes` processes of its own (scripts/bench/ingester-process.ts), one
 * consumer group, over the same messages into an empty store. The messages go to a topic of
 * the run's own inside a transaction, committed once the group has settled with every process
 * holding partitions (held-topic.ts): timed from that commit to the last event stored. With a
 * profile directory, each process is profiled.
 */
async function ingestInProcesses(o: {
  pool: Pool;
  kafka: Kafka;
  databaseUrl: string;
  brokers: string[];
  messages: Message[];
  processes: number;
  profileDir?: string | undefined;
}): Promise<ProcessRun> {
  await o.pool.query("TRUNCATE saga_event, saga_event_identity, saga_summary, saga_vocabulary");
  const total = o.messages.length;
  const topic = `bench-${Date.now().toString(36)}-${o.processes}p.sagascope.saga-events`;
  const groupId = `bench-processes-${randomUUID()}`;
  const admin = o.kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 6);
  const held = await holdMessages(o.kafka, topic, o.messages);
  let released = false;
  const setup = JSON.stringify({
    databaseUrl: o.databaseUrl,
    brokers: o.brokers,
    topic,
    groupId,
    partitionsAtOnce,
  });
  /** What the bench reads of each process's counters (sent over IPC every 50 ms). */
  type Counters = Pick<IngestCounters, "inserted" | "duplicates">;
  const counters: Counters[] = [];
  const children = Array.from({ length: o.processes }, (_, i) => {
    counters[i] = { inserted: 0, duplicates: 0 };
    const child = fork(fileURLToPath(new URL("./ingester-process.ts", import.meta.url)), [setup], {
      execArgv: [
        "--import",
        "tsx",
        ...(o.profileDir
          ? [
              "--cpu-prof",
              `--cpu-prof-dir=${o.profileDir}`,
              `--cpu-prof-name=ingester-${i + 1}-of-${o.processes}.cpuprofile`,
            ]
          : []),
      ],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on("message", (m: unknown) => {
        if (m === "ready") resolve();
        else if (m && typeof m === "object" && "counters" in m)
          counters[i] = (m as { counters: Counters }).counters;
      });
      child.on("exit", (code) => reject(new Error(`a bench ingester process exited with ${code}`)));
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    return { child, ready, exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.send("go");
    const sum = (key: keyof Counters) => counters.reduce((n, c) => n + c[key], 0);
    await waitForSettledGroup(admin, groupId, o.processes);
    const watch = startCpuSplit();
    const began = Date.now();
    released = true;
    await held.release();
    const deadline = Date.now() + 10 * 60_000;
    while (sum("inserted") < total) {
      if (Date.now() > deadline)
        throw new Error(`the ingester processes stored ${sum("inserted")} of ${total} in 10 min`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const ms = Date.now() - began;
    const cpu = watch.stop();
    return {
      processes: o.processes,
      events: total,
      ms,
      split: counters.map((c) => c.inserted),
      copies: sum("duplicates"),
      cpu,
    };
  } finally {
    for (const c of children) if (c.child.connected) c.child.send("stop");
    await Promise.all(
      children.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, 15_000))])),
    );
    for (const c of children) if (c.child.exitCode === null) c.child.kill("SIGKILL");
    if (!released) await held.abort().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
}

async function main() {
  const plan = testPlan(env());
  const { startedBroker } = await infraUp(plan);
  const databaseUrl = siblingDatabase(plan.databaseUrl, "_bench");
  try {
    await step("creating a fresh bench database", async () => {
      await recreateDatabase(databaseUrl);
      await migrate(databaseUrl);
    });
    const kafka = new Kafka({ clientId: "bench", brokers: plan.kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = `bench-${Date.now().toString(36)}.sagascope.saga-events`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topic], 6);
    await admin.disconnect();

    const sagas = Math.ceil(args.events / 6);
    const total = sagas * 6;
    /** What was produced, kept to be sent again to each process run's topic of its own. */
    const produced: Message[] = [];
    await step(`producing ${total} events (${sagas} sagas)`, async () => {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (let sent = 0; sent < sagas; sent += 500) {
        const messages = Array.from({ length: Math.min(500, sagas - sent) }, saga)
          .flat()
          .map(encodeSagaEvent);
        produced.push(...messages);
        await producer.send({ topic, messages });
        if ((sent / 500) % 20 === 0) say(`  ${sent * 6} / ${total} produced`);
      }
      await producer.disconnect();
    });

    // Its CPU split is taken over the timed window only (from the first batch), as the ingester's.
    const baseline = () =>
      step("baseline: consume and validate only", async () => {
        const consumer = kafka.consumer({ groupId: `bench-baseline-${randomUUID()}` });
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        let seen = 0;
        let began = 0;
        let watch: ReturnType<typeof startCpuSplit> | undefined;
        await new Promise<void>((resolve) => {
          void consumer.run({
            partitionsConsumedConcurrently: 3,
            eachBatch: async ({ batch }) => {
              if (!began) {
                began = Date.now();
                watch = startCpuSplit();
              }
              for (const m of batch.messages) if (decodeSagaEvent(m).ok) seen += 1;
              if (seen >= total) resolve();
            },
          });
        });
        const ms = Date.now() - began;
        const cpu = (watch as ReturnType<typeof startCpuSplit>).stop();
        await consumer.disconnect();
        return { ms, cpu };
      });

    const pool = createPool(databaseUrl, poolSize);
    /** One ingester over the whole topic into an empty store; with a registry, metrics on and scraped every second. */
    // An OTLP/HTTP sink on 127.0.0.1 that takes every export and answers 200, for the traces.
    let exportedBytes = 0;
    const sink = createServer((req, res) => {
      req.on("data", (c: Buffer) => {
        exportedBytes += c.length;
      });
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/x-protobuf" });
        res.end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
    let traced = { exported: 0, fromMemory: 0, readBack: 0 };
    type Exporters = "off" | "metrics" | "traces" | "both";
    /** One ingester over the whole topic into an empty store; metrics scraped every second, every ended saga exported as a trace. */
    const ingestRun = async (on: Exporters) => {
      await pool.query(`TRUNCATE ${STORE_TABLES.join(", ")}`);
      const registry = on === "metrics" || on === "both" ? withDefaultMetrics(new Registry()) : undefined;
      const log = createLogger("bench", "error");
      const groupId = `bench-ingester-${randomUUID()}`;
      const traces =
        on === "traces" || on === "both"
          ? createSagaTraceExporter({ pool, exporter: createOtlpExporter(sinkUrl), groupId, log })
          : undefined;
      traces?.start();
      const ingester = createIngester({
        kafka,
        pool,
        topics: [topic],
        groupId,
        log,
        partitionsAtOnce,
        ...(registry ? { metrics: createIngestMetrics(registry) } : {}),
        ...(traces ? { traces } : {}),
      });
      await ingester.start();
      const scraper = registry ? setInterval(() => void registry.metrics(), 1000) : undefined;
      let began = 0;
      let watch: ReturnType<typeof startCpuSplit> | undefined;
      // Timed from the first batch handed over, as the baseline is.
      while (ingester.counters().inserted < total) {
        if (!began && ingester.counters().received > 0) {
          began = Date.now();
          watch = startCpuSplit();
        }
        // Looked at often until the first batch comes, so the start is not seen late.
        await new Promise((resolve) => setTimeout(resolve, began ? 20 : 2));
      }
      const ms = Date.now() - began;
      const cpu = watch?.stop();
      clearInterval(scraper);
      await ingester.stop();
      await traces?.stop();
      if (traces) traced = traces.counters();
      return { ms, cpu };
    };
    const label: Record<Exporters, string> = {
      off: "ingester: consume, validate, store, fold summaries, commit",
      metrics: "ingester with metrics on (scraped every second)",
      traces: "ingester with every ended saga exported as a trace over OTLP",
      both: "ingester with metrics and traces on",
    };
    // Each setting twice, in mirrored order: a machine that speeds up or slows down during the runs favours none.
    const order: Exporters[] =
      args.exporters === "off"
        ? Array.from({ length: args.pairs }, () => "off" as const)
        : ["off", "metrics", "traces", "both", "both", "traces", "metrics", "off"];
    const runs: { on: Exporters; ms: number; cpu: CpuSplit | undefined }[] = [];
    // Right after each ingester-alone run, the raw COPY of the rows it stored: each pair is
    // measured in the same minute, so a machine that slows down between them (a checkpoint,
    // another process) skews one pair, not the whole comparison.
    let stored: Awaited<ReturnType<typeof takeRows>> | undefined;
    const copyRuns: number[] = [];
    const offRuns = order.filter((on) => on === "off").length;
    // Unmeasured first, the baseline and the ingester once each: the first batches of a process
    // pay for compiling its code paths, and a broker started for this run is a young JVM whose
    // JIT compiles the fetch path meanwhile (without it, the first of the two timed pairs had the
    // lower ratio to raw COPY in nine of ten runs of this bench, and the same in the tenth).
    await step("warming up: the baseline and the ingester once each (not timed)", async () => {
      await baseline();
      await ingestRun("off");
    });
    const { ms: baselineMs, cpu: baselineCpu } = await baseline();
    for (const on of order) {
      const { ms, cpu } = await step(label[on], () => ingestRun(on));
      runs.push({ on, ms, cpu });
      if (on !== "off") continue;
      if (!stored)
        stored = await step("taking the stored rows for the raw COPY baseline", () =>
          takeRows(pool, STORE_TABLES),
        );
      const rows = stored;
      copyRuns.push(
        await step(
          `raw COPY of the same rows into the same tables (${copyRuns.length + 1} of ${offRuns})`,
          () => copyRowsBack(pool, rows),
        ),
      );
    }
    const processRuns: ProcessRun[] = [];
    // One ingester process against two (one consumer group), in mirrored order.
    const inProcesses = (processes: number, profileDir?: string) =>
      ingestInProcesses({
        pool,
        databaseUrl,
        brokers: plan.kafkaBrokers,
        kafka,
        messages: produced,
        processes,
        profileDir,
      });
    for (const processes of [1, 2, 2, 1])
      processRuns.push(
        await step(`${processes} ingester process${processes > 1 ? "es" : ""}, one consumer group`, () =>
          inProcesses(processes),
        ),
      );
    if (args.profile)
      await step("2 ingester processes under the CPU profiler (not timed)", () =>
        inProcesses(2, args.profile),
      );
    // One more run under the profiler, not among the timed ones (profiling slows it).
    const profiled = args.profile
      ? await step("ingester under the CPU profiler (not timed)", () =>
          withCpuProfile(args.profile, "ingester", () => ingestRun("off")),
        )
      : undefined;
    const mean = (on: Exporters) => {
      const these = runs.filter((r) => r.on === on);
      return Math.round(these.reduce((n, r) => n + r.ms, 0) / these.length);
    };
    const ingestMs = mean("off");
    const check = await pool.query(
      "SELECT count(*)::int AS events, (SELECT count(*)::int FROM saga_summary) AS sagas FROM saga_event",
    );
    const copyMs = Math.round(copyRuns.reduce((a, b) => a + b, 0) / copyRuns.length);
    const dedupeEvents = Array.from({ length: Math.ceil(Math.min(total, 60_000) / 6) }, saga).flat();
    const dedupe = await step(
      `dedupe cost: ${dedupeEvents.length} events in batches of ${DEDUPE_BATCH}, with and without the identity claim`,
      () => dedupeCost(pool, dedupeEvents),
    );
    const backend = await step(
      `Postgres's own CPU: ${dedupeEvents.length} events stored in batches of ${BACKEND_BATCH}, then their rows by raw COPY, one backend`,
      () => backendCost(databaseUrl, pool, dedupeEvents),
    );
    await pool.end();
    await new Promise((resolve) => sink.close(resolve));

    console.log("\nbench:ingest");
    console.log(
      `  events                 ${total} (${sagas} sagas of 6 events), 6 partitions, ${partitionsAtOnce} stored at once`,
    );
    console.log(`  baseline (validate)    ${rate(total, baselineMs)} events/s  (${baselineMs} ms)`);
    console.log(`  ingester (stored)      ${rate(total, ingestMs)} events/s  (${ingestMs} ms)`);
    console.log(`  ratio ingester/baseline ${(baselineMs / ingestMs).toFixed(2)}`);
    console.log(
      `  raw COPY (same rows)   ${rate(total, copyMs)} events/s  (${copyMs} ms: ${(stored ?? []).map((c) => `${c.rows} ${c.table}`).join(", ")})`,
    );
    const offMs = runs.filter((r) => r.on === "off").map((r) => r.ms);
    const pairRatios = copyRuns.map((c, i) => c / (offMs[i] as number));
    const sorted = [...pairRatios].sort((a, b) => a - b);
    const middle = sorted.length / 2;
    const median =
      sorted.length % 2
        ? (sorted[Math.floor(middle)] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
    console.log(
      `  ratio ingester/COPY    ${(copyMs / ingestMs).toFixed(2)}  (each pair: ${pairRatios.map((r) => r.toFixed(2)).join(", ")})`,
    );
    console.log(
      `  ratio, median of pairs ${median.toFixed(2)}  (${pairRatios.length} pairs, ${(sorted[0] as number).toFixed(2)}–${(sorted[sorted.length - 1] as number).toFixed(2)})`,
    );
    /** Events per second over the timed windows of the runs with n processes. */
    const processRate = (n: number) => {
      const these = processRuns.filter((r) => r.processes === n);
      return (these.reduce((a, r) => a + r.events, 0) / these.reduce((a, r) => a + r.ms, 0)) * 1000;
    };
    const copyRate = (total / copyMs) * 1000;
    for (const n of [1, 2])
      console.log(
        `  ${`${n} ingester process${n > 1 ? "es" : ""}`.padEnd(22)} ${Math.round(processRate(n))} events/s from the moment the events became readable, ratio to COPY ${(processRate(n) / copyRate).toFixed(2)}`,
      );
    console.log(`  ratio two/one          ${(processRate(2) / processRate(1)).toFixed(2)}`);
    // Copies: work done twice after a rebalance; the group settles before the events are
    // readable (held-topic.ts), so a run with copies was disturbed (a member left and came back).
    for (const run of processRuns.filter((r) => r.processes === 2))
      console.log(
        `  2 processes stored     ${run.split.join(" + ")} events; ${run.copies} handed again after a rebalance (copies)`,
      );
    const two = processRuns.find((r) => r.processes === 2);
    if (two) console.log(`  CPU, 2 processes       ${formatCpuSplit(two.cpu, "bench")}`);
    // What one more event costs each process: steadier between runs than events/s, and the
    // figure a change of the ingester's own work moves.
    const perEvent = (cpu: CpuSplit, run: { ms: number; events: number }, selfName: string) =>
      formatCpuPerUnit(cpu, { ms: run.ms, units: run.events }, selfName, "an event", undefined, "µs");
    for (const r of processRuns)
      console.log(
        `  CPU an event, ${r.processes} proc  ${perEvent(r.cpu, r, "bench")}${r.copies > 0 ? ` (a run with ${r.copies} copies)` : ""}`,
      );
    for (const i of args.profile ? [1, 2] : []) {
      const file = join(args.profile as string, `ingester-${i}-of-2.cpuprofile`);
      const profile = await readFile(file, "utf8").catch(() => undefined);
      if (profile)
        console.log(
          `  profile, process ${i} of 2 ${file}\n${formatProfile(summarizeProfile(JSON.parse(profile)))}`,
        );
    }
    console.log(`  CPU, baseline          ${formatCpuSplit(baselineCpu, "bench (consumer)")}`);
    console.log(
      `  CPU an event, baseline ${perEvent(baselineCpu, { ms: baselineMs, events: total }, "bench (consumer)")}`,
    );
    for (const r of runs.filter((r) => r.on === "off"))
      if (r.cpu) {
        console.log(`  CPU, ingester (off)    ${formatCpuSplit(r.cpu, "bench (ingester)")}`);
        console.log(
          `  CPU an event, ingester ${perEvent(r.cpu, { ms: r.ms, events: total }, "bench (ingester)")}`,
        );
      }
    if (profiled?.profile)
      console.log(`  profile, ingester       ${profiled.file}\n${formatProfile(profiled.profile)}`);
    for (const on of ["metrics", "traces", "both"] as const)
      if (runs.some((r) => r.on === on))
        console.log(
          `  ${`${on === "both" ? "metrics and traces" : on} on`.padEnd(22)} ${rate(total, mean(on))} events/s  (${mean(on)} ms), ratio on/off ${(ingestMs / mean(on)).toFixed(2)}`,
        );
    console.log(
      `  traces exported        ${traced.exported} sagas a run (${traced.fromMemory} built from the events seen, ${traced.readBack} read back), ${Math.round(exportedBytes / 1024)} KiB of OTLP in all`,
    );
    console.log(
      `  runs                   ${runs.map((r) => `${rate(total, r.ms)} ${r.on}`).join(", ")} events/s`,
    );
    console.log(
      `  stored                 ${check.rows[0].events} events, ${check.rows[0].sagas} saga summaries`,
    );
    console.log(
      `  insert, no identity    ${rate(dedupeEvents.length, dedupe.withoutMs)} events/s  (${dedupe.withoutMs} ms)`,
    );
    console.log(
      `  insert, identity first ${rate(dedupeEvents.length, dedupe.withMs)} events/s  (${dedupe.withMs} ms)`,
    );
    console.log(`  ratio identity/none    ${(dedupe.withoutMs / dedupe.withMs).toFixed(2)}`);
    console.log(
      backend
        ? `  Postgres CPU an event  store ${backend.storeUs.toFixed(1)} µs, raw COPY of its rows ${backend.copyUs.toFixed(1)} µs (one backend, medians of 3), ratio COPY/store ${(backend.copyUs / backend.storeUs).toFixed(2)}`
        : "  Postgres CPU an event  not measured: Postgres does not run on this machine",
    );
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:ingest failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
