import { readFileSync } from "node:fs";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import pg from "pg";
import { z } from "zod";
import { migrate } from "../../server/db/migrate.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import { encodeSagaEvent } from "../../server/events/index.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";
import { EVENTS_PER_SAGA, forkIngester, freshSagaTopic, syntheticSaga } from "./ingest-load.ts";
import { option } from "./option.ts";

const args = z
  .object({
    seconds: z.coerce.number().int().min(30).max(3600).default(600),
    rate: z.coerce.number().int().min(60).max(20_000).default(4000),
    "stall-seconds": z.coerce.number().int().min(0).max(600).default(20),
  })
  .parse({ seconds: option("seconds"), rate: option("rate"), "stall-seconds": option("stall-seconds") });

const TICK_MS = 50;

/** Resident memory of a process, in MiB, from /proc. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

interface Sample {
  second: number;
  rss: number;
  produced: number;
  stored: number;
  stalled: boolean;
}

async function main() {
  const plan = testPlan(env());
  const { startedBroker } = await infraUp(plan);
  const databaseUrl = siblingDatabase(plan.databaseUrl, "_soak");
  try {
    await step("creating a fresh soak database", async () => {
      await recreateDatabase(databaseUrl);
      await migrate(databaseUrl);
    });
    const kafka = new Kafka({ clientId: "soak", brokers: plan.kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = await freshSagaTopic(kafka, "soak");
    const ingester = await forkIngester({ databaseUrl, brokers: plan.kafkaBrokers, topic, name: "soak" });
    const pid = ingester.child.pid as number;

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    const stallFrom = Math.floor(args.seconds / 2);
    const stallUntil = stallFrom + args["stall-seconds"];
    let stalled = false;
    let produced = 0;
    const samples: Sample[] = [];
    const began = Date.now();
    const perTick = Math.max(
      EVENTS_PER_SAGA,
      Math.round((args.rate * TICK_MS) / 1000 / EVENTS_PER_SAGA) * EVENTS_PER_SAGA,
    );
    try {
      say(
        `producing ${args.rate} events/s for ${args.seconds} s; Postgres stalls from ${stallFrom} s for ${args["stall-seconds"]} s`,
      );
      for (let tick = 0; ; tick++) {
        const now = Date.now();
        const second = Math.floor((now - began) / 1000);
        if (second >= args.seconds) break;
        if (!stalled && args["stall-seconds"] > 0 && second >= stallFrom && second < stallUntil) {
          // The lock waits behind nothing but holds every write to saga_summary until released.
          await locker.query("BEGIN");
          await locker.query("LOCK TABLE saga_summary IN ACCESS EXCLUSIVE MODE");
          stalled = true;
        } else if (stalled && second >= stallUntil) {
          await locker.query("COMMIT");
          stalled = false;
        }
        if (samples.length <= second) {
          samples.push({ second, rss: rssMiB(pid), produced, stored: ingester.stored(), stalled });
          if (second % 30 === 0)
            say(
              `  ${second} s: ${produced} produced, ${ingester.stored()} stored, ingester ${samples.at(-1)?.rss} MiB`,
            );
        }
        const due = began + tick * TICK_MS;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        const messages = Array.from({ length: perTick / EVENTS_PER_SAGA }, () =>
          syntheticSaga("soak-transfer"),
        )
          .flat()
          .map(encodeSagaEvent);
        await producer.send({ topic, messages });
        produced += messages.length;
      }
    } finally {
      if (stalled) await locker.query("COMMIT");
      await producer.disconnect();
    }
    const drainBegan = Date.now();
    await step("waiting for the ingester to catch up", async () => {
      while (ingester.stored() < produced) {
        if (Date.now() - drainBegan > 10 * 60_000)
          throw new Error(`stored ${ingester.stored()} of ${produced} after 10 min`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    const drainMs = Date.now() - drainBegan;
    const endRss = rssMiB(pid);
    await ingester.stop();
    await locker.end();

    const lag = samples.map((s) => s.produced - s.stored);
    const steady = samples.filter((s) => s.second >= 10);
    const first = steady[0] ?? samples[0];
    const peak = samples.reduce((a, s) => (s.rss > a.rss ? s : a));
    const duringStall = samples.filter((s) => s.stalled);
    console.log("\nbench:soak");
    console.log(
      `  load                   ${args.rate} events/s asked, ${Math.round(produced / args.seconds)} reached, ${args.seconds} s, ${produced} events`,
    );
    console.log(
      `  ingester memory (RSS)  ${first?.rss} MiB at ${first?.second} s, peak ${peak.rss} MiB at ${peak.second} s, ${samples.at(-1)?.rss} MiB at the end of the load, ${endRss} MiB caught up`,
    );
    if (duringStall.length > 0)
      console.log(
        `  while Postgres stalled ${duringStall.length} s: lag ${lag[duringStall[0]?.second ?? 0]} → ${Math.max(...duringStall.map((s) => s.produced - s.stored))} events, RSS ${Math.min(...duringStall.map((s) => s.rss))}–${Math.max(...duringStall.map((s) => s.rss))} MiB`,
      );
    console.log(
      `  lag (events behind)    max ${Math.max(...lag)}, at the end of the load ${lag.at(-1)}; caught up ${drainMs} ms after the load ended`,
    );
    const every = Math.max(1, Math.floor(samples.length / 20));
    console.log(
      `  over time (s: lag, MiB) ${samples
        .filter((_, i) => i % every === 0)
        .map((s) => `${s.second}: ${s.produced - s.stored}, ${s.rss}`)
        .join(" · ")}`,
    );
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

main().catch((error: unknown) => {
  console.error(`bench:soak failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
