// `npm run bench:operations [-- --sagas N] [-- --rate R]`: a bulk operation over N sagas
// (100 000 by default) in a store of its own, seeded as the ingester would have stored them,
// run by the real runner against the test broker at R sagas a second (1 000 by default).
// Measured, same run: one saga's audited command after another, unpaced (the runner before
// it acted on slices of sagas at once), as the baseline; starting the operation (count + snapshot of its sagas); the rate
// it reaches against its limit and the baseline; while it runs against idle, the saga list's
// latency and a fleet's own sends to the same broker; the time from a suspend to the last
// command sent. The seeded sagas are set running, so that every one gets a command. Prints
// figures, asserts nothing.
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { z } from "zod";
import type { Actor } from "../../browser-safe/roles.ts";
import { runOperationRound } from "../../server/actions/bulk-operation-runner.ts";
import { changeOperation, previewOperation, startOperation } from "../../server/actions/bulk-operations.ts";
import { listSagas } from "../../server/dashboard/sagas/list-sagas.ts";
import { migrate } from "../../server/db/migrate.ts";
import { createPool, type Pool } from "../../server/db/pool.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import { ensureTopics, topics } from "../../server/events/index.ts";
import { createLogger } from "../../server/log.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { say, step } from "../infra/progress.ts";
import { seedSagas } from "../seed/seed-sagas.ts";
import { option } from "./option.ts";

const args = z
  .object({
    sagas: z.coerce.number().int().min(1000).max(1_000_000).default(100_000),
    rate: z.coerce.number().int().min(1).max(10_000).default(1000),
  })
  .parse({ sagas: option("sagas"), rate: option("rate") });
const config = env();
const log = createLogger("bench", "error");
const actor: Actor = { id: "demo", email: "bench-operator", name: "Bench", role: "operator", via: "demo" };

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
};

/** The saga list's first page, asked every 100 ms for `ms`: its latencies. */
async function listLatencies(pool: Pool, ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const began = performance.now();
    await listSagas(pool, { limit: 50, status: "running" });
    out.push(performance.now() - began);
    await new Promise((r) => setTimeout(r, 100));
  }
  return out;
}

async function operationState(pool: Pool, id: string) {
  const { rows } = await pool.query<{
    state: string;
    sent: number;
    skipped: number;
    failed: number;
    total: number;
  }>("SELECT state, sent, skipped, failed, total FROM bulk_operation WHERE id = $1", [id]);
  return rows[0] as { state: string; sent: number; skipped: number; failed: number; total: number };
}

async function main() {
  const plan = testPlan(config);
  const { startedBroker } = await infraUp(plan);
  const url = siblingDatabase(plan.databaseUrl, "_bench_operations");
  try {
    await step("creating a fresh store", () => recreateDatabase(url));
    await step("migrating it", () => migrate(url, () => {}));
    await step(`seeding ${args.sagas} sagas`, () =>
      seedSagas({
        databaseUrl: url,
        sagas: args.sagas,
        eventsPerSaga: 6,
        stuckGraceMs: 30_000,
        topic: "bench-operations",
        seed: 7,
      }),
    );
    const pool = createPool(url, 6);
    // Every saga still moving: each gets its command (a realistic store's are mostly ended and skipped).
    await pool.query("UPDATE saga_summary SET status = 'running', ended_at = NULL");
    const kafka = new Kafka({
      clientId: "bench-operations",
      brokers: plan.kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const prefix = `bench-operations-${Date.now().toString(36)}.`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [topics(prefix).control]);
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const deps = { pool, producer: async () => producer, topicPrefix: prefix, log, owner: "bench" };
    const action = "mark-resolved" as const;
    const reason = "bench";

    // A fleet's own traffic on the same broker: one event sent every 50 ms, its send() timed.
    const fleetTopic = `${prefix}fleet`;
    const fleetAdmin = kafka.admin();
    await fleetAdmin.connect();
    await ensureTopics(fleetAdmin, [fleetTopic]);
    await fleetAdmin.disconnect();
    const fleet = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await fleet.connect();
    const fleetSends = async (ms: number) => {
      const out: number[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const began = performance.now();
        await fleet.send({ topic: fleetTopic, messages: [{ key: randomUUID(), value: "x".repeat(500) }] });
        out.push(performance.now() - began);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    };

    const [idle, fleetIdle] = await step("the saga list's latency and a fleet's sends, idle (10 s)", () =>
      Promise.all([listLatencies(pool, 10_000), fleetSends(10_000)]),
    );

    const startMs = Date.now();
    const preview = await previewOperation(pool, "", action, { cap: args.sagas, rate: args.rate });
    const previewMs = Date.now() - startMs;
    const startBegan = Date.now();
    const started = await startOperation(
      pool,
      actor,
      { query: "", action, reason, expectedCount: preview.matching, idempotencyKey: randomUUID() },
      { cap: args.sagas, rate: args.rate },
    );
    const startedMs = Date.now() - startBegan;
    const id = started.target.replace(/^operation /, "");
    say(`${started.phase}: ${started.message}`);

    // Run it, with the list measured beside it, until half is handled; then suspend mid-round.
    let running = true;
    const loop = (async () => {
      let rounds = 0;
      while (running) {
        const n = await runOperationRound(deps);
        if (n === undefined) await new Promise((r) => setTimeout(r, 50));
        rounds += 1;
      }
      return rounds;
    })();
    const began = Date.now();
    const busy = Promise.all([listLatencies(pool, 10_000), fleetSends(10_000)]);
    await step(`running at ${args.rate}/s until half the sagas are handled`, async () => {
      for (;;) {
        const s = await operationState(pool, id);
        if (s.sent + s.skipped + s.failed >= s.total / 2) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    const half = await operationState(pool, id);
    const halfMs = Date.now() - began;
    const suspendAt = Date.now();
    await changeOperation(pool, actor, { operationId: id, change: "suspend", idempotencyKey: randomUUID() });
    const suspendCommitted = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const { rows: lastRows } = await pool.query<{ last: Date; suspended: Date }>(
      `SELECT max(t.handled_at) AS last, o.state_changed_at AS suspended FROM bulk_operation_target t
       JOIN bulk_operation o ON o.id = t.operation_id WHERE t.operation_id = $1 GROUP BY o.state_changed_at`,
      [id],
    );
    const afterSuspend = Math.max(
      0,
      (lastRows[0]?.last.getTime() ?? 0) - (lastRows[0]?.suspended.getTime() ?? 0),
    );
    const held = await operationState(pool, id);
    await new Promise((r) => setTimeout(r, 2000));
    const stillHeld = await operationState(pool, id);
    await changeOperation(pool, actor, { operationId: id, change: "resume", idempotencyKey: randomUUID() });
    const resumedAt = Date.now();
    await step("resumed: running to the end", async () => {
      for (;;) {
        const s = await operationState(pool, id);
        if (s.state === "done") return;
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    const endMs = Date.now() - resumedAt;
    running = false;
    await loop;
    const [busyLatencies, fleetBusy] = await busy;
    await fleet.disconnect();
    // Baseline, measured after the operation (warm, as it was): the same runner with no pacing,
    // one round of 2 000 of the same sagas, one at a time: the baseline.
    const oneAtATime = await step(
      "baseline: one audited command after another, unpaced (2 000 sagas)",
      async () => {
        const limits = { cap: args.sagas, rate: 2000 };
        const preview = await previewOperation(pool, "", action, limits);
        const started = await startOperation(
          pool,
          actor,
          { query: "", action, reason, expectedCount: preview.matching, idempotencyKey: randomUUID() },
          limits,
        );
        const id = started.target.replace(/^operation /, "");
        const began = Date.now();
        const handled = (await runOperationRound({ ...deps, slice: 1, sleep: async () => {} })) ?? 0;
        const ms = Date.now() - began;
        const s = await operationState(pool, id);
        await changeOperation(pool, actor, {
          operationId: id,
          change: "cancel",
          idempotencyKey: randomUUID(),
        });
        return { perSecond: (handled / ms) * 1000, sent: s.sent, skipped: s.skipped };
      },
    );

    const done = await operationState(pool, id);
    await producer.disconnect();
    await pool.end();

    const handledRate = (n: number, ms: number) => ((n / ms) * 1000).toFixed(0);
    const secondHalf = done.total - (held.sent + held.skipped + held.failed);
    console.log(`\nbench:operations (${args.sagas} sagas, ${action}, limit ${args.rate}/s)`);
    console.log(
      `  one at a time (unpaced, 2 000)    ${oneAtATime.perSecond.toFixed(0)} sagas/s (${oneAtATime.sent} sent, ${oneAtATime.skipped} skipped)`,
    );
    console.log(`  preview of ${preview.matching}              ${previewMs} ms`);
    console.log(`  start (count + snapshot)          ${startedMs} ms for ${done.total} sagas`);
    console.log(
      `  first half                        ${half.sent + half.skipped + half.failed} in ${(halfMs / 1000).toFixed(1)} s: ${handledRate(half.sent + half.skipped + half.failed, halfMs)} sagas/s (ratio to its limit ${((half.sent + half.skipped + half.failed) / halfMs / (args.rate / 1000)).toFixed(2)}, to one at a time ${((half.sent + half.skipped + half.failed) / halfMs / (oneAtATime.perSecond / 1000)).toFixed(2)})`,
    );
    console.log(
      `  suspend                           committed in ${suspendCommitted - suspendAt} ms; last saga handled ${afterSuspend} ms after it; held still for 2 s: ${held.sent + held.skipped === stillHeld.sent + stillHeld.skipped ? "yes" : "no"}`,
    );
    console.log(
      `  second half                       ${secondHalf} in ${(endMs / 1000).toFixed(1)} s: ${handledRate(secondHalf, endMs)} sagas/s`,
    );
    console.log(
      `  end                               ${done.state}: ${done.sent} sent, ${done.skipped} skipped, ${done.failed} failed of ${done.total}`,
    );
    console.log(
      `  saga list (running, 50), idle     p50 ${percentile(idle, 0.5).toFixed(1)} ms, p95 ${percentile(idle, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `  saga list while it runs           p50 ${percentile(busyLatencies, 0.5).toFixed(1)} ms, p95 ${percentile(busyLatencies, 0.95).toFixed(1)} ms (ratio of p95s ${(percentile(busyLatencies, 0.95) / percentile(idle, 0.95)).toFixed(2)})`,
    );
    console.log(
      `  a fleet's send(), idle            p50 ${percentile(fleetIdle, 0.5).toFixed(1)} ms, p95 ${percentile(fleetIdle, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `  a fleet's send() while it runs    p50 ${percentile(fleetBusy, 0.5).toFixed(1)} ms, p95 ${percentile(fleetBusy, 0.95).toFixed(1)} ms (ratio of p95s ${(percentile(fleetBusy, 0.95) / percentile(fleetIdle, 0.95)).toFixed(2)})`,
    );
    say("done");
  } finally {
    if (startedBroker) await infraDown(plan);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:operations failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
