// A steady ingest load beside a benchmark: one ingester process (ingester-process.ts) storing
// what a producer publishes at a fixed rate, into a fresh database of its own on the same
// Postgres server, through the test profile's broker. What bench:ingest does, kept running
// while another bench measures, so that the other bench sees the machine an ingesting
// deployment has (Postgres's CPU, WAL and disk, the broker, the ingester's thread).
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { migrate } from "../../server/db/migrate.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import {
  encodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
} from "../../server/events/index.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { dropDatabase, recreateDatabase } from "../infra/postgres.ts";

const TICK_MS = 50;
/** Events of one synthetic saga (started, one step started and succeeded, completed). */
export const EVENTS_PER_SAGA = 4;

/** One short orchestrated saga of `sagaType`, as a fleet's producer would publish it. */
export function syntheticSaga(sagaType: string): SagaEvent[] {
  const sagaId = `${sagaType}-${randomUUID()}`;
  const o = { source: `/${sagaType}`, trace: newTrace() };
  const base = { sagaId, sagaType, mode: "orchestrated" as const };
  const step = { ...base, step: "debit", stepIndex: 0, service: `${sagaType}-a` };
  return [
    sagaEvent("io.sagascope.saga.started", { ...base, steps: [{ name: "debit", service: step.service }] }, o),
    sagaEvent("io.sagascope.saga.step.started", step, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...step, durationMs: 2 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 3 }, o),
  ];
}

export interface IngestLoad {
  /** Events produced and stored so far. */
  counts(): { produced: number; stored: number };
  /** Stops producing and ingesting; removes its database. */
  stop(): Promise<{ produced: number; stored: number; seconds: number }>;
}

/** Starts the load and returns once the ingester has stored its first events. */
export async function startIngestLoad(ratePerSecond: number): Promise<IngestLoad> {
  const plan = testPlan(env());
  const { startedBroker } = await infraUp(plan);
  const databaseUrl = siblingDatabase(plan.databaseUrl, "_beside");
  await recreateDatabase(databaseUrl);
  await migrate(databaseUrl);
  const kafka = new Kafka({
    clientId: "ingest-load",
    brokers: plan.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const topic = await freshSagaTopic(kafka, "beside");
  const ingester = await forkIngester({ databaseUrl, brokers: plan.kafkaBrokers, topic, name: "beside" });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  let produced = 0;
  let running = true;
  const began = Date.now();
  const sagasPerTick = Math.max(1, Math.round((ratePerSecond * TICK_MS) / 1000 / EVENTS_PER_SAGA));
  const producing = produce(
    producer,
    topic,
    sagasPerTick,
    () => running,
    (n) => {
      produced += n;
    },
  );
  while (ingester.stored() === 0) await new Promise((resolve) => setTimeout(resolve, 50));

  return {
    counts: () => ({ produced, stored: ingester.stored() }),
    async stop() {
      running = false;
      await producing;
      const seconds = (Date.now() - began) / 1000;
      const at = { produced, stored: ingester.stored(), seconds };
      await producer.disconnect();
      await ingester.stop();
      await dropDatabase(databaseUrl);
      if (startedBroker) await infraDown(plan);
      return at;
    },
  };
}

/** A saga events topic of its own (6 partitions), named `<name>-<time>`. */
export async function freshSagaTopic(kafka: Kafka, name: string): Promise<string> {
  const topic = `${name}-${Date.now().toString(36)}.sagascope.saga-events`;
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topic], 6);
  await admin.disconnect();
  return topic;
}

export interface IngesterProcess {
  child: ChildProcess;
  /** Events it has stored so far (it reports every 50 ms). */
  stored(): number;
  /** Stops it (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** One ingester in a process of its own (ingester-process.ts), started and ingesting `topic`. */
export async function forkIngester(o: {
  databaseUrl: string;
  brokers: string[];
  topic: string;
  name: string;
}): Promise<IngesterProcess> {
  let stored = 0;
  const child = fork(
    fileURLToPath(new URL("./ingester-process.ts", import.meta.url)),
    [
      JSON.stringify({
        databaseUrl: o.databaseUrl,
        brokers: o.brokers,
        topic: o.topic,
        groupId: `${o.name}-${randomUUID()}`,
      }),
    ],
    { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.on("message", (m: unknown) => {
      if (m === "ready") resolve();
      else if (m && typeof m === "object" && "counters" in m)
        stored = (m as { counters: { inserted: number } }).counters.inserted;
    });
    child.on("exit", (code) => reject(new Error(`the ingester process exited with ${code}`)));
  });
  child.send("go");
  return {
    child,
    stored: () => stored,
    async stop() {
      child.send("stop");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Publishes `sagasPerTick` sagas every tick, on schedule, until told to stop. */
async function produce(
  producer: Producer,
  topic: string,
  sagasPerTick: number,
  going: () => boolean,
  sent: (events: number) => void,
): Promise<void> {
  const began = Date.now();
  for (let tick = 0; going(); tick++) {
    const due = began + tick * TICK_MS;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    const messages = Array.from({ length: sagasPerTick }, () => syntheticSaga("beside-transfer"))
      .flat()
      .map(encodeSagaEvent);
    await producer.send({ topic, messages });
    sent(messages.length);
  }
}
