// `npm run bench:ingest [-- --events N]`: how fast the ingester stores saga events, against
// a baseline measured in the same run on the same messages: a consumer that only decodes
// and validates them (the ceiling Kafka and the contract allow on this machine).
// Uses the test profile's broker and a fresh database of its own; prints figures, asserts nothing.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { z } from "zod";
import { migrate } from "../../server/db/migrate.ts";
import { createPool } from "../../server/db/pool.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import {
  decodeSagaEvent,
  encodeSagaEvent,
  ensureTopics,
  newTrace,
  type SagaEvent,
  sagaEvent,
} from "../../server/events/index.ts";
import { createIngester } from "../../server/ingest/ingester.ts";
import { createLogger } from "../../server/log.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";

const flag = process.argv.indexOf("--events");
const args = z
  .object({ events: z.coerce.number().int().min(1000).max(5_000_000).default(60_000) })
  .parse({ events: flag >= 0 ? process.argv[flag + 1] : undefined });

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
    await step(`producing ${total} events (${sagas} sagas)`, async () => {
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      for (let sent = 0; sent < sagas; sent += 500) {
        const messages = Array.from({ length: Math.min(500, sagas - sent) }, saga)
          .flat()
          .map(encodeSagaEvent);
        await producer.send({ topic, messages });
        if ((sent / 500) % 20 === 0) say(`  ${sent * 6} / ${total} produced`);
      }
      await producer.disconnect();
    });

    const baselineMs = await step("baseline: consume and validate only", async () => {
      const consumer = kafka.consumer({ groupId: `bench-baseline-${randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      let seen = 0;
      let began = 0;
      await new Promise<void>((resolve) => {
        void consumer.run({
          partitionsConsumedConcurrently: 3,
          eachBatch: async ({ batch }) => {
            began ||= Date.now();
            for (const m of batch.messages) if (decodeSagaEvent(m).ok) seen += 1;
            if (seen >= total) resolve();
          },
        });
      });
      const ms = Date.now() - began;
      await consumer.disconnect();
      return ms;
    });

    const pool = createPool(databaseUrl, 5);
    const ingestMs = await step("ingester: consume, validate, store, fold summaries, commit", async () => {
      const ingester = createIngester({
        kafka,
        pool,
        topics: [topic],
        groupId: `bench-ingester-${randomUUID()}`,
        log: createLogger("bench", "error"),
      });
      await ingester.start();
      let began = 0;
      while (ingester.counters().inserted < total) {
        if (!began && ingester.counters().batches > 0) began = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ms = Date.now() - began;
      await ingester.stop();
      return ms;
    });
    const check = await pool.query(
      "SELECT count(*)::int AS events, (SELECT count(*)::int FROM saga_summary) AS sagas FROM saga_event",
    );
    await pool.end();

    console.log("\nbench:ingest");
    console.log(`  events                 ${total} (${sagas} sagas of 6 events), 6 partitions`);
    console.log(`  baseline (validate)    ${rate(total, baselineMs)} events/s  (${baselineMs} ms)`);
    console.log(`  ingester (stored)      ${rate(total, ingestMs)} events/s  (${ingestMs} ms)`);
    console.log(`  ratio ingester/baseline ${(baselineMs / ingestMs).toFixed(2)}`);
    console.log(
      `  stored                 ${check.rows[0].events} events, ${check.rows[0].sagas} saga summaries`,
    );
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:ingest failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
