// `npm run bench:projection [-- --backlog N] [-- --rounds N] [-- --profile DIR]`: the projector's catch-up rate
// after a backlog of change events (100 000 by default), against a consume-and-decode-only
// baseline measured in the same run: baselines and catch-ups alternate (B P B P B P B), each
// catch-up compared with the baselines on either side of it, and the median ratio reported
// with its range (on 2 cores one pair alone varies by ±0.07); then the steady-state time lag (change committed → applied in the read
// model) at the demo's rate, and how the machine's CPU was spent in each phase (this process,
// Postgres, the broker, idle). With --profile, one more catch-up (another generation, not
// timed) runs under V8's profiler and its busiest functions are printed. Prints figures, asserts nothing.
import { randomBytes, randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { z } from "zod";
import { createPool } from "../../server/db/pool.ts";
import { siblingDatabase } from "../../server/env.ts";
import { ensureTopics } from "../../server/events/index.ts";
import { demoFleetManifest } from "../../server/fleet/demo-manifest.ts";
import { fleetEnv } from "../../server/fleet/fleet-env.ts";
import { createLogger } from "../../server/log.ts";
import { changeMessage, changeTopic, decodeChange } from "../../server/projections/change-events.ts";
import { projectedTopics, projectorGroup } from "../../server/projections/fleet-topics.ts";
import { measureLag, totalOffsetLag } from "../../server/projections/lag.ts";
import { createProjector, PROJECTOR_POOL_SIZE, type Projector } from "../../server/projections/projector.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";
import { formatProfile, withCpuProfile } from "./cpu-profile.ts";
import { type CpuSplit, formatCpuSplit, withCpuSplit } from "./cpu-split.ts";
import { option } from "./option.ts";

const args = z
  .object({
    backlog: z.coerce.number().int().min(1000).max(5_000_000).default(100_000),
    rounds: z.coerce.number().int().min(1).max(10).default(3),
    // A directory: an extra, untimed catch-up is CPU-profiled there.
    profile: z.string().min(1).optional(),
  })
  .parse({ backlog: option("backlog"), rounds: option("rounds"), profile: option("profile") });
const { backlog, rounds } = args;
const config = fleetEnv();
const log = createLogger("bench", "error");
const trace = () => ({
  traceId: randomBytes(16).toString("hex"),
  spanId: randomBytes(8).toString("hex"),
  sampled: true,
});

/** One order's life as its services publish it: 4 changes on 3 topics. */
function orderChanges(prefix: string, orderId: string, at = new Date()) {
  const orders = changeTopic(prefix, "order");
  const payments = changeTopic(prefix, "payment");
  const inventory = changeTopic(prefix, "inventory");
  const opts = { source: "/bench", trace: trace() };
  return [
    {
      topic: orders,
      message: changeMessage(
        {
          aggregateType: "order",
          aggregateId: orderId,
          op: "created",
          version: 1,
          occurredAt: at,
          state: { customer_id: "C-001", sku: "SKU-1", quantity: 1, amount_cents: 500, status: "placed" },
        },
        opts,
      ),
    },
    {
      topic: payments,
      message: changeMessage(
        {
          aggregateType: "payment",
          aggregateId: orderId,
          op: "created",
          version: 1,
          occurredAt: at,
          state: { status: "captured" },
        },
        opts,
      ),
    },
    {
      topic: inventory,
      message: changeMessage(
        {
          aggregateType: "reservation",
          aggregateId: orderId,
          op: "created",
          version: 1,
          occurredAt: at,
          state: { status: "expected" },
        },
        opts,
      ),
    },
    {
      topic: inventory,
      message: changeMessage(
        {
          aggregateType: "reservation",
          aggregateId: orderId,
          op: "updated",
          version: 2,
          occurredAt: at,
          state: { status: "reserved" },
        },
        opts,
      ),
    },
  ];
}

async function publish(producer: Producer, items: ReturnType<typeof orderChanges>) {
  const byTopic = new Map<string, ReturnType<typeof orderChanges>[number]["message"][]>();
  for (const { topic, message } of items) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
  await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

async function main() {
  const plan = testPlan(config);
  const { startedBroker } = await infraUp(plan);
  const readUrl = siblingDatabase(plan.databaseUrl, "_bench_projection");
  try {
    await step("creating a fresh read model database", () => recreateDatabase(readUrl));
    const pool = createPool(readUrl, PROJECTOR_POOL_SIZE);
    const kafka = new Kafka({
      clientId: "bench-projection",
      brokers: plan.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const prefix = `bench-projection-${Date.now().toString(36)}.`;
    const topics = projectedTopics(prefix, demoFleetManifest());
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, 6);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();

    const orders = Math.ceil(backlog / 4);
    await step(`publishing a backlog of ${orders * 4} change events`, async () => {
      for (let i = 0; i < orders; i += 500) {
        const chunk = Array.from({ length: Math.min(500, orders - i) }, () =>
          orderChanges(prefix, `order-${randomUUID()}`),
        ).flat();
        await publish(producer, chunk);
      }
    });
    const total = orders * 4;

    /** Consume and decode the whole backlog with a fresh group: the ceiling Kafka and the contract allow. */
    const baseline = (n: number) =>
      withCpuSplit(() =>
        step(`baseline: consume and decode only (${n} of ${rounds + 1})`, async () => {
          const consumer = kafka.consumer({ groupId: `${prefix}baseline-${n}` });
          await consumer.connect();
          await consumer.subscribe({ topics, fromBeginning: true });
          let seen = 0;
          const began = Date.now();
          await new Promise<void>((resolve) => {
            void consumer.run({
              eachBatch: async ({ batch }) => {
                for (const m of batch.messages) if (decodeChange(m).ok) seen += 1;
                if (seen >= total) resolve();
              },
            });
          });
          const ms = Date.now() - began;
          await consumer.disconnect();
          return ms;
        }),
      );
    const latencies: number[] = [];
    let measuring = false;
    /** A projector of its own generation and group, from its start until its committed offsets reach the end. */
    const catchUp = async (generation: number) => {
      const projector = createProjector({
        kafka,
        pool,
        generation,
        groupId: projectorGroup(prefix, generation),
        topics,
        log,
        onApplied: (change, at) => {
          if (measuring) latencies.push(at - Date.parse(change.occurredAt));
        },
      });
      const began = Date.now();
      await projector.start();
      for (;;) {
        const lag = totalOffsetLag(
          await measureLag(admin, pool, { groupId: projectorGroup(prefix, generation), topics, generation }),
        );
        if (lag === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return { projector, ms: Date.now() - began };
    };
    // Alternated, each catch-up between two baselines: a machine that speeds up or slows down
    // meanwhile favours neither. Each catch-up builds a generation of its own from empty.
    const baselines = [await baseline(1)];
    const catchUps: { ms: number; cpu: CpuSplit }[] = [];
    let projector: Projector | undefined;
    for (let round = 1; round <= rounds; round += 1) {
      const { result, cpu } = await withCpuSplit(() =>
        step(`projector: catching up ${total} changes (${round} of ${rounds})`, () => catchUp(round)),
      );
      catchUps.push({ ms: result.ms, cpu });
      // The last one stays up for the steady state.
      if (round < rounds) await result.projector.stop();
      else projector = result.projector;
      baselines.push(await baseline(round + 1));
    }
    // Under the profiler (which slows it), so not among the timed runs.
    const profiled = args.profile
      ? await step("projector under the CPU profiler (not timed)", () =>
          withCpuProfile(args.profile, "projector", async () => {
            const run = await catchUp(rounds + 1);
            await run.projector.stop();
          }),
        )
      : undefined;
    const pairs = catchUps.map((c, i) => {
      const around = Math.round(((baselines[i]?.result ?? 0) + (baselines[i + 1]?.result ?? 0)) / 2);
      return { catchUpMs: c.ms, baselineMs: around, ratio: around / c.ms, cpu: c.cpu };
    });
    const byRatio = [...pairs].sort((a, b) => a.ratio - b.ratio);
    const median = byRatio[Math.floor(byRatio.length / 2)] as (typeof pairs)[number];

    const rate = config.SAGASCOPE_DEMO_RATE;
    await step(`steady state: ${rate} orders/s (${rate * 4} changes/s) for 20 s`, async () => {
      measuring = true;
      const end = Date.now() + 20_000;
      while (Date.now() < end) {
        await publish(producer, orderChanges(prefix, `order-${randomUUID()}`));
        await new Promise((r) => setTimeout(r, 1000 / rate));
      }
      await new Promise((r) => setTimeout(r, 1500));
      measuring = false;
    });
    await projector?.stop();
    await producer.disconnect();
    await admin.disconnect();
    await pool.end();

    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    console.log(`\nbench:projection (${total} change events, 6 partitions per topic)`);
    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    console.log(
      `  consume + decode only (baseline)  ${perSecond(total, median.baselineMs)} events/s  (${median.baselineMs} ms, the median pair's)`,
    );
    console.log(
      `  projector catch-up                 ${perSecond(total, median.catchUpMs)} events/s  (${median.catchUpMs} ms)`,
    );
    console.log(
      `  ratio to baseline                  median ${median.ratio.toFixed(2)} of ${rounds}, range ${(byRatio[0] as typeof median).ratio.toFixed(2)}–${(byRatio[byRatio.length - 1] as typeof median).ratio.toFixed(2)}  (each: ${pairs.map((p) => p.ratio.toFixed(2)).join(", ")})`,
    );
    console.log(
      `  CPU, baseline                      ${formatCpuSplit(baselines[0]?.cpu as CpuSplit, "bench (consumer)")}`,
    );
    console.log(`  CPU, catch-up (median)             ${formatCpuSplit(median.cpu, "bench (projector)")}`);
    console.log(
      `  steady-state time lag at ${rate} orders/s: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms over ${latencies.length} changes`,
    );
    if (profiled?.profile) {
      console.log(`  CPU profile of a catch-up (${profiled.file}):`);
      console.log(formatProfile(profiled.profile));
    }
    say("done");
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:projection failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
