// From a producer's send() to the event shown: a producer of its own publishes saga events at
// a steady rate beside the running fleet (by default Debian's kcat in structured mode, see
// fixtures/kcat-load.ts; SAGASCOPE_BENCH_LATENCY_LOAD=kafkajs sends it as the probes are
// sent); ten sagas a second are probes, sent by kafkajs, whose last event's
// send() time is kept (and 24 more, of their own type, for the browser). Measured: when the
// tRPC API first returns the probe's saga as completed
// (asked each time the store announces a change to a probe not yet returned), and when the
// saga list in Chromium, open on the probes' saga type and updating over its live feed, first
// shows the row completed; beside them, when the store itself first held it (the ingester's
// share). The load's messages are encoded before the clock starts, each tick sends whole sagas
// as many as keep the rate asked since the start, and a tick's send does not wait for the one
// before (at most MAX_SENDS_IN_FLIGHT unanswered): the rate asked is reached unless the broker
// falls behind. Prints p50/p95/p99 (and writes test-results/produce-to-visible.json); asserts
// only that every probe became visible. `npm run bench:latency` runs it at 5 000 events/s,
// after 60 s of the same load whose probes are reported apart (WARM_UP_SECONDS). Beside the
// figures: how the machine's CPU went in the measured seconds (a JVM's JIT compiling named
// apart: the broker is started for the run) and the Postgres server's checkpoints and WAL.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Kafka, logLevel, type Message, Partitioners } from "kafkajs";
import pg from "pg";
import { z } from "zod";
import { formatCpuSplit, startCpuSplit } from "../scripts/bench/cpu-split.ts";
import {
  activityBetween,
  type PostgresActivity,
  postgresActivity,
} from "../scripts/bench/postgres-activity.ts";
import { encodeSagaEvent, newTrace, type SagaEvent, sagaEvent } from "../server/events/index.ts";
import { SAGA_CHANGES_CHANNEL } from "../server/ingest/store-batch.ts";
import { e2eRun } from "./fixtures/e2e-env.ts";
import { expect, test } from "./fixtures/fleet.ts";
import { startKcatLoad, structuredLine } from "./fixtures/kcat-load.ts";
import { signInAs } from "./fixtures/operators.ts";
import { figuresOf, percentile } from "./fixtures/percentiles.ts";

const RATE = Number(process.env.SAGASCOPE_BENCH_LATENCY_RATE ?? 600);
/**
 * What sends the load beside the probes: Debian's kcat in structured mode (the default: the
 * lightest producer on a machine the deployment shares), or kafkajs in binary mode, as the
 * probes are sent.
 */
const LOAD = z.enum(["kcat", "kafkajs"]).parse(process.env.SAGASCOPE_BENCH_LATENCY_LOAD ?? "kcat");
const SECONDS = Number(process.env.SAGASCOPE_BENCH_LATENCY_SECONDS ?? 8);
/**
 * Seconds the load runs at the rate asked before the measured SECONDS: a deployment's
 * processes just started (the suite's case) store their first seconds of a sudden load
 * slower, while their code is compiled for it. Their probes are reported apart (`warmUp`), so
 * the figures say both what a steady load sees and what its first seconds see.
 */
const WARM_UP_SECONDS = z.coerce
  .number()
  .int()
  .min(0)
  .max(300)
  .parse(process.env.SAGASCOPE_BENCH_LATENCY_WARM_UP_SECONDS ?? 0);
const PROBES_PER_SECOND = 10;
/**
 * The browser's probes, of a saga type of their own, spread over the run: no more than the
 * list's first page holds (25 rows), so none is pushed off the page by newer ones before a
 * refresh that a loaded machine may delay by seconds.
 */
const VIEW_PROBES = 24;
const TICK_MS = 20;
/** Sends the producer keeps unanswered at most (a tick's send does not wait for the one before). */
const MAX_SENDS_IN_FLIGHT = 8;
/** Long enough for any probe on a loaded machine; a probe not seen by then is a failure, not a figure. */
const VISIBLE_WITHIN_MS = 30_000;

/** A saga of six events, started to completed, of `sagaType`. */
function saga(sagaType: string): SagaEvent[] {
  const sagaId = `${sagaType}-${randomUUID()}`;
  const o = { source: "/latency-bench", trace: newTrace() };
  const base = { sagaId, sagaType, mode: "orchestrated" as const };
  const a = { ...base, step: "reserve", stepIndex: 0, service: "latency-stock" };
  const b = { ...base, step: "charge", stepIndex: 1, service: "latency-billing" };
  return [
    sagaEvent(
      "io.sagascope.saga.started",
      {
        ...base,
        steps: [
          { name: "reserve", service: "latency-stock" },
          { name: "charge", service: "latency-billing" },
        ],
      },
      o,
    ),
    sagaEvent("io.sagascope.saga.step.started", a, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...a, durationMs: 2 }, o),
    sagaEvent("io.sagascope.saga.step.started", b, o),
    sagaEvent("io.sagascope.saga.step.succeeded", { ...b, durationMs: 3 }, o),
    sagaEvent("io.sagascope.saga.completed", { ...base, durationMs: 6 }, o),
  ];
}

test("produce → visible: from send() to the tRPC API and to the saga list in Chromium", async ({ page }) => {
  test.setTimeout(120_000 + (WARM_UP_SECONDS + SECONDS) * 2_000);
  const run = randomUUID().slice(0, 8);
  const probeType = `latency-probe-${run}`;
  const viewType = `latency-view-${run}`;
  const loadType = `latency-load-${run}`;
  const { kafkaBrokers, sagaTopic, databaseUrl } = e2eRun();

  await signInAs(page, "viewer");
  await page.goto(`/sagas?type=${encodeURIComponent(viewType)}`);
  await expect(page.getByTestId("live-indicator")).toHaveText(/live/);
  // The page's own clock (the machine's, as this process's) notes when each probe first shows completed.
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { probesSeen: Record<string, number> }).probesSeen = seen;
    const look = () => {
      for (const row of document.querySelectorAll<HTMLElement>('tr[data-saga-id][data-status="completed"]')) {
        const id = row.dataset.sagaId as string;
        seen[id] ??= Date.now();
      }
    };
    new MutationObserver(look).observe(document.body, { subtree: true, childList: true, attributes: true });
  });

  // The API side: each change the store announces (after its commit) that names a probe not
  // yet returned asks the list once for the probes.
  const listener = new pg.Client({ connectionString: databaseUrl });
  await listener.connect();
  await listener.query(`LISTEN ${SAGA_CHANGES_CHANNEL}`);
  const sentAt = new Map<string, number>();
  /** The browser's probes, by when their send() returned. */
  const viewSentAt = new Map<string, number>();
  let lastSend = Date.now();
  const viaApi = new Map<string, number>();
  /** When the store first held the probe completed (read directly, beside the API): the ingester's share. */
  const inStore = new Map<string, number>();
  /** Every probe made so far, its send() returned or not: the store may hold it before that. */
  const probeIds = new Set<string>();
  /** The probes sent during the warm-up: reported apart. */
  const warmUpProbes = new Set<string>();
  let changed = false;
  listener.on("notification", ({ payload }) => {
    // Only a change that names a probe still to be returned (or names none: "*") asks the API.
    // Asked at every change, at 5 000 events/s the dashboard answering this spec took 12 % of
    // the machine, the deployment's CPU: several times what a live view asks, which is told
    // of changes at most every 250 ms (server/live/saga-change-feed.ts).
    if (payload === undefined || payload === "*") {
      changed = true;
      return;
    }
    try {
      if ((JSON.parse(payload) as string[]).some((id) => probeIds.has(id) && !viaApi.has(id))) changed = true;
    } catch {
      changed = true;
    }
  });
  let watching = true;
  const apiWatcher = (async () => {
    while (watching || viaApi.size < sentAt.size) {
      // A probe never returned is reported below, not waited for past the bound.
      if (!watching && Date.now() > lastSend + VISIBLE_WITHIN_MS) break;
      if (!changed) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      changed = false;
      const waiting = [...probeIds].filter((id) => !inStore.has(id));
      if (waiting.length > 0) {
        const { rows } = await listener.query<{ saga_id: string }>(
          "SELECT saga_id FROM saga_summary WHERE saga_id = ANY($1) AND status = 'completed'",
          [waiting],
        );
        const at = Date.now();
        for (const r of rows) inStore.set(r.saga_id, at);
      }
      const input = encodeURIComponent(
        JSON.stringify({ json: { limit: 100, filter: { sagaType: probeType, status: "completed" } } }),
      );
      const response = await page.request.get(`/api/trpc/sagas.list?input=${input}`);
      const at = Date.now();
      const body = (await response.json()) as {
        result?: { data: { json: { items: { sagaId: string; status: string }[] } } };
      };
      for (const item of body.result?.data.json.items ?? [])
        if (item.status === "completed" && probeIds.has(item.sagaId) && !viaApi.has(item.sagaId))
          viaApi.set(item.sagaId, at);
    }
  })();

  const producer = new Kafka({
    clientId: "latency-bench",
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const perTick = (RATE * TICK_MS) / 1000;
  // The load's messages are made before the clock starts: what the run measures is the
  // deployment's work, not this process encoding events (a producer of the user's is elsewhere).
  // Enough for every tick the run can have, each a whole number of sagas.
  const ticks = Math.ceil(((WARM_UP_SECONDS + SECONDS) * 1000) / TICK_MS) + 1;
  const loadSagas = Array.from({ length: ticks * Math.ceil(perTick / 6 + 1) }, () => saga(loadType));
  const byKafkajs = LOAD === "kafkajs" ? loadSagas.map((events) => events.map(encodeSagaEvent)) : [];
  const byKcat = LOAD === "kcat" ? loadSagas.map((events) => events.map(structuredLine).join("")) : [];
  const kcat = LOAD === "kcat" ? startKcatLoad(kafkaBrokers, sagaTopic) : undefined;
  let nextLoad = 0;
  /** Events handed to a producer since the start (answered or not). */
  let planned = 0;
  /** Events the broker acknowledged to kafkajs. */
  let sent = 0;
  /** Events handed to kcat (each acknowledged by the time it exits, or the run fails). */
  let toKcat = 0;
  /** Sends not answered yet: a tick does not wait for the one before, as a fleet's producers do not. */
  const inFlight = new Set<Promise<void>>();
  /** The first send the broker refused: the run fails with it, rather than missing its probes. */
  let sendFailure: unknown;
  // The server's checkpoints and WAL, on a connection of their own, read at the start, when the
  // measured seconds begin and at the end: a run's slow seconds are often a checkpoint's.
  const stats = new pg.Client({ connectionString: databaseUrl });
  await stats.connect();
  const activityAtStart = await postgresActivity(stats);
  let activityAtMeasure: Promise<PostgresActivity> | undefined;
  /** How the machine's CPU went in the measured seconds (the warm-up's is a younger deployment's). */
  let cpu: ReturnType<typeof startCpuSplit> | undefined;
  const began = Date.now();
  /** When the warm-up ends and the measured seconds begin. */
  const measuredFrom = began + WARM_UP_SECONDS * 1000;
  let kcatExitedAt = began;
  try {
    let nextProbe = began;
    let nextViewProbe = measuredFrom;
    for (let tick = 0; Date.now() - began < (WARM_UP_SECONDS + SECONDS) * 1000; tick++) {
      const due = began + tick * TICK_MS;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!cpu && Date.now() >= measuredFrom) {
        cpu = startCpuSplit();
        activityAtMeasure = postgresActivity(stats);
      }
      // Bounded: when the broker falls behind, the producer does too, and the rate reached says so.
      while (inFlight.size >= MAX_SENDS_IN_FLIGHT) await Promise.race(inFlight);
      const messages: Message[] = [];
      let probe: string | undefined;
      if (Date.now() >= nextProbe) {
        const events = saga(probeType);
        probe = events[0]?.data.sagaId as string;
        probeIds.add(probe);
        if (Date.now() < measuredFrom) warmUpProbes.add(probe);
        messages.push(...events.map(encodeSagaEvent));
        nextProbe += 1000 / PROBES_PER_SECOND;
      }
      let viewProbe: string | undefined;
      if (Date.now() >= nextViewProbe && viewSentAt.size < VIEW_PROBES) {
        const events = saga(viewType);
        viewProbe = events[0]?.data.sagaId;
        messages.push(...events.map(encodeSagaEvent));
        nextViewProbe += (SECONDS * 1000) / VIEW_PROBES;
      }
      // Whole sagas, as many as keep the events sent since the start at the rate asked.
      const owed = Math.round(perTick * (tick + 1)) - planned - messages.length;
      let lines = "";
      let linesEvents = 0;
      for (let n = 0; n < owed; n += 6) {
        const at = nextLoad++;
        if (!kcat) {
          messages.push(...(byKafkajs[at] as Message[]));
          continue;
        }
        lines += byKcat[at] as string;
        linesEvents += (loadSagas[at] as SagaEvent[]).length;
      }
      if (kcat && linesEvents > 0) {
        planned += linesEvents;
        toKcat += linesEvents;
        await kcat.write(lines);
      }
      planned += messages.length;
      if (messages.length === 0) continue;
      const sending: Promise<void> = producer
        .send({ topic: sagaTopic, messages })
        .then(() => {
          lastSend = Date.now();
          sent += messages.length;
          if (probe) sentAt.set(probe, lastSend);
          if (viewProbe) viewSentAt.set(viewProbe, lastSend);
        })
        .catch((error: unknown) => {
          sendFailure ??= error;
        })
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
      if (sendFailure) throw sendFailure;
    }
    await Promise.all(inFlight);
    if (sendFailure) throw sendFailure;
    if (kcat) kcatExitedAt = (await kcat.close()).exitedAt;
  } finally {
    kcat?.stop();
    await producer.disconnect();
    watching = false;
  }
  // kcat's exit, after its last delivery, ends the production for the rate reached.
  const producedMs = Math.max(lastSend, kcatExitedAt) - began;
  const machine = cpu ? formatCpuSplit(cpu.stop(), "this spec (producer)") : "not measured";
  const atMeasure = activityAtMeasure ? await activityAtMeasure : activityAtStart;
  const activityAtEnd = await postgresActivity(stats);
  await stats.end();
  await apiWatcher;
  await listener.end();
  await expect
    .poll(
      async () =>
        page.evaluate(() => Object.keys((window as unknown as { probesSeen: object }).probesSeen).length),
      { timeout: VISIBLE_WITHIN_MS, intervals: [200] },
    )
    .toBe(viewSentAt.size);
  const inBrowser = await page.evaluate(
    () => (window as unknown as { probesSeen: Record<string, number> }).probesSeen,
  );

  const missingViaApi = [...sentAt.keys()].filter((id) => !viaApi.has(id));
  expect(missingViaApi, "probes the API never returned as completed").toEqual([]);
  const measured = [...sentAt].filter(([id]) => !warmUpProbes.has(id));
  const warmUp = [...sentAt].filter(([id]) => warmUpProbes.has(id));
  const apiMsOf = (probes: [string, number][]) => probes.map(([id, at]) => (viaApi.get(id) as number) - at);
  const storeMsOf = (probes: [string, number][]) =>
    probes.filter(([id]) => inStore.has(id)).map(([id, at]) => (inStore.get(id) as number) - at);
  const browserMs = [...viewSentAt].map(([id, at]) => (inBrowser[id] as number) - at);
  // The store's share second by second of the run, warm-up included (p50 of the probes sent in
  // that second): a run that falls behind shows where it began and whether it caught up.
  const storeBySecond: number[] = [];
  for (let second = 0; second < Math.ceil(producedMs / 1000); second++) {
    const inSecond = [...sentAt]
      .filter(([id, at]) => inStore.has(id) && Math.floor((at - began) / 1000) === second)
      .map(([id, at]) => (inStore.get(id) as number) - at);
    storeBySecond.push(percentile(inSecond, 50));
  }
  const result = {
    targetRate: RATE,
    load: LOAD,
    achievedRate: Math.round(((sent + toKcat) / producedMs) * 1000),
    seconds: SECONDS,
    warmUpSeconds: WARM_UP_SECONDS,
    events: sent + toKcat,
    probes: measured.length,
    browserProbes: viewSentAt.size,
    store: figuresOf(storeMsOf(measured)),
    storeP50BySecond: storeBySecond,
    api: figuresOf(apiMsOf(measured)),
    browser: figuresOf(browserMs),
    ...(warmUp.length > 0
      ? {
          warmUp: {
            probes: warmUp.length,
            store: figuresOf(storeMsOf(warmUp)),
            api: figuresOf(apiMsOf(warmUp)),
          },
        }
      : {}),
    cpuWhileMeasured: machine,
    // Server-wide: a checkpoint begun in the warm-up may still be writing in the measured seconds.
    postgres: {
      ...(WARM_UP_SECONDS > 0 ? { warmUp: activityBetween(activityAtStart, atMeasure) } : {}),
      measured: activityBetween(atMeasure, activityAtEnd),
    },
  };
  console.log(`produce → visible: ${JSON.stringify(result)}`);
  writeFileSync("test-results/produce-to-visible.json", `${JSON.stringify(result, null, 2)}\n`);
});
