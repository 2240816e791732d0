// What the web app's /metrics reads from the store, Redis and Kafka at each scrape: sagas in
// flight and stuck, every breaker pair's state (one 0/1 series per state, as Resilience4j's
// Micrometer binding does) and failure rate, open dead letters by kind of reason, consumer
// group lag, projection lag in changes and seconds, and operator actions by outcome. Each
// read is cheap (indexed, bounded); a source that fails is reported by
// sagascope_scrape_source_up{source} = 0 instead of failing the whole scrape.
import { Counter, Gauge, type Registry } from "prom-client";
import type { BreakerStore } from "../breakers/index.ts";
import { listBreakers } from "../dashboard/breakers/list-breakers.ts";
import { countOpenByReason } from "../dashboard/dead-letters/list-dead-letters.ts";
import { type KafkaTarget, readKafka } from "../dashboard/kafka/read-kafka.ts";
import { latestLag, listProjections } from "../dashboard/projections/projection-list.ts";
import type { Pool } from "../db/pool.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { boundedLabel } from "./bounded-label.ts";
import { deadLetterReasonKind } from "./dead-letter-reason.ts";

export const BREAKER_STATES = [
  "closed",
  "open",
  "half_open",
  "forced_open",
  "forced_closed",
  "disabled",
] as const;

export interface DashboardSources {
  pool: Pick<Pool, "query">;
  prisma: PrismaClient;
  breakerStore: BreakerStore;
  kafka: KafkaTarget;
}

type BreakerLike = { state: "closed" | "open" | "half_open"; forced: "open" | "closed" | "disabled" | null };

/** A pair's state as one of the six the convention names. */
export function conventionState(b: BreakerLike): (typeof BREAKER_STATES)[number] {
  if (b.forced === "open") return "forced_open";
  if (b.forced === "closed") return "forced_closed";
  if (b.forced === "disabled") return "disabled";
  return b.state;
}

export function registerDashboardMetrics(registry: Registry, sources: DashboardSources): void {
  const registers = [registry];
  const sagaType = boundedLabel(200);
  const pairLabel = boundedLabel(1000);
  const groupLabel = boundedLabel(300);
  const projectionLabel = boundedLabel(100);
  const up = new Gauge({
    name: "sagascope_scrape_source_up",
    help: "Whether this scrape could read a source (postgres, redis, kafka): 1 or 0",
    labelNames: ["source"] as const,
    registers,
  });
  const read = async (source: string, work: () => Promise<void>) => {
    try {
      await work();
      up.set({ source }, 1);
    } catch {
      up.set({ source }, 0);
    }
  };
  // prom-client collects every metric of a scrape at once: metrics that share one read (in
  // flight and stuck; state and failure rate) share its answer for the scrape.
  const sagaCounts = shared(() =>
    sources.pool.query<{ saga_type: string; mode: string; status: string; n: number; stuck: number }>(
      `SELECT saga_type, mode::text AS mode, status::text AS status, count(*)::int AS n,
              (count(*) FILTER (WHERE stuck))::int AS stuck
       FROM saga_summary WHERE status IN ('running', 'compensating', 'timed_out') GROUP BY 1, 2, 3`,
    ),
  );
  const breakers = shared(() => listBreakers(sources.breakerStore, sources, Date.now()));
  const projections = shared(async () =>
    Promise.all(
      (await listProjections(sources.pool))
        .filter((p) => p.lastCheckpointAt !== null && projectionLabel(p.name) === p.name)
        .map(async (p) => ({ ...p, partitions: await latestLag(sources.pool, p.name) })),
    ),
  );

  new Gauge({
    name: "sagascope_sagas_in_flight",
    help: "Sagas not ended yet, by type, mode and status (running, compensating, timed_out)",
    labelNames: ["saga_type", "mode", "status"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        for (const r of (await sagaCounts()).rows)
          this.inc({ saga_type: sagaType(r.saga_type), mode: r.mode, status: r.status }, r.n);
      });
    },
  });
  new Gauge({
    name: "sagascope_sagas_stuck",
    help: "Sagas reported stuck (their next event is overdue past the grace period), by type and mode",
    labelNames: ["saga_type", "mode"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        for (const r of (await sagaCounts()).rows)
          this.inc({ saga_type: sagaType(r.saga_type), mode: r.mode }, r.stuck);
      });
    },
  });

  new Gauge({
    name: "sagascope_circuitbreaker_state",
    help: "Each caller→callee pair's state: 1 for the state it is in, 0 for the others (closed, open, half_open, forced_open, forced_closed, disabled)",
    labelNames: ["pair", "caller", "callee", "state"] as const,
    registers,
    async collect() {
      this.reset();
      await read("redis", async () => {
        for (const b of await breakers()) {
          if (pairLabel(b.pair) !== b.pair) continue;
          const current = conventionState(b);
          for (const state of BREAKER_STATES)
            this.set({ pair: b.pair, caller: b.caller, callee: b.callee, state }, state === current ? 1 : 0);
        }
      });
    },
  });
  new Gauge({
    name: "sagascope_circuitbreaker_failure_rate",
    help: "Share of failed calls (0–1) in each pair's current window",
    labelNames: ["pair", "caller", "callee"] as const,
    registers,
    async collect() {
      this.reset();
      await read("redis", async () => {
        for (const b of await breakers())
          if (pairLabel(b.pair) === b.pair)
            this.set({ pair: b.pair, caller: b.caller, callee: b.callee }, b.window.failureRate);
      });
    },
  });

  new Gauge({
    name: "sagascope_dead_letters_open",
    help: "Quarantined messages nobody has replayed or discarded yet, by kind of reason",
    labelNames: ["reason"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        for (const { kind, count } of await countOpenByReason(sources.pool))
          this.inc({ reason: deadLetterReasonKind(kind) }, count);
      });
    },
  });

  new Gauge({
    name: "sagascope_kafka_consumergroup_lag",
    help: "Messages each consumer group of this deployment has not consumed yet, per topic and partition",
    labelNames: ["group", "topic", "partition"] as const,
    registers,
    async collect() {
      this.reset();
      await read("kafka", async () => {
        const kafka = await readKafka(sources.kafka, { deadlineMs: 4000 });
        for (const g of kafka.groups) {
          const group = groupLabel(g.groupId);
          if (group !== g.groupId) continue;
          for (const p of g.partitions)
            if (p.lag !== null) this.set({ group, topic: p.topic, partition: String(p.partition) }, p.lag);
        }
      });
    },
  });

  new Gauge({
    name: "sagascope_projection_lag_changes",
    help: "Changes each projection has not applied yet, per topic, at its latest checkpoint",
    labelNames: ["projection", "topic"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        for (const p of await projections())
          for (const l of p.partitions) this.inc({ projection: p.name, topic: l.topic }, l.offsetLag);
      });
    },
  });
  new Gauge({
    name: "sagascope_projection_lag_seconds",
    help: "How far behind each projection is, in seconds (its worst partition), at its latest checkpoint",
    labelNames: ["projection"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        // Caught up is 0 s behind, however long ago the last change occurred (an idle source).
        for (const p of await projections())
          if (p.offsetLag === 0) this.set({ projection: p.name }, 0);
          else if (p.timeLagMs !== null) this.set({ projection: p.name }, p.timeLagMs / 1000);
      });
    },
  });
  new Gauge({
    name: "sagascope_kafka_consumergroup_lag_seconds",
    help: "Seconds behind, per partition, for the consumer groups of projections (from their checkpoints)",
    labelNames: ["group", "topic", "partition"] as const,
    registers,
    async collect() {
      this.reset();
      await read("postgres", async () => {
        for (const p of await projections())
          for (const l of p.partitions)
            if (p.groupId && l.timeLagMs !== null && groupLabel(p.groupId) === p.groupId)
              this.set(
                { group: p.groupId, topic: l.topic, partition: String(l.partition) },
                l.timeLagMs / 1000,
              );
      });
    },
  });

  new Counter({
    name: "sagascope_operator_actions_total",
    help: "Operator actions by action and outcome (done, failed, refused, denied), from the audit log",
    labelNames: ["action", "outcome"] as const,
    registers,
    async collect() {
      await read("postgres", async () => {
        const { rows } = await sources.pool.query<{ action: string; phase: string; n: number }>(
          `SELECT action, phase, count(*)::int AS n FROM audit_entry
           WHERE phase IN ('done', 'failed', 'refused', 'denied') GROUP BY 1, 2`,
        );
        this.reset();
        for (const r of rows) this.inc({ action: r.action, outcome: r.phase }, r.n);
      });
    },
  });
}

/** One answer per scrape for every metric that asks within `ttlMs`; a failure is not kept. */
function shared<T>(read: () => Promise<T>, ttlMs = 1000): () => Promise<T> {
  let last: { at: number; answer: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) {
      const answer = read();
      last = { at: Date.now(), answer };
      answer.catch(() => {
        last = undefined;
      });
    }
    return last.answer;
  };
}
