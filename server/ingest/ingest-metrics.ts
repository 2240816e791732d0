// What the ingester counts as it stores, for Prometheus: messages by kind and outcome, how long
// a batch waited to be handed over and then to be stored, dead letters by kind of reason,
// sagas started and ended (by type, mode and end status) with their durations, breaker calls
// by outcome from the callers' windows, and its own lag per partition. Counted once per stored
// row (a redelivery counts as a duplicate), so several ingesters' counters add up. Labels are
// bounded (server/metrics/bounded-label.ts).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { BreakerEvent } from "../events/index.ts";
import { boundedLabel } from "../metrics/bounded-label.ts";
import { deadLetterReasonKind } from "../metrics/dead-letter-reason.ts";

/** A saga whose status the batch changed: new (from null), or ended. */
export interface SagaTransition {
  sagaId: string;
  traceId: string;
  sagaType: string;
  mode: string;
  from: string | null;
  to: string;
  durationMs: number | null;
  /** Events the store holds for the saga after the batch. */
  eventCount: number;
}

export const ENDED_STATUSES = new Set(["completed", "compensated", "failed", "resolved"]);

export type MessageKind = "saga" | "breaker" | "projection" | "breaker_control" | "reported_dead_letter";

export function createIngestMetrics(registry: Registry) {
  const registers = [registry];
  const sagaType = boundedLabel(200);
  const pairLabel = boundedLabel(1000);
  const partitionLabel = boundedLabel(2000);
  const messages = new Counter({
    name: "sagascope_ingest_messages_total",
    help: "Messages the ingester consumed, by kind and outcome (stored, duplicate, dead_lettered)",
    labelNames: ["kind", "outcome"] as const,
    registers,
  });
  const batchSeconds = new Histogram({
    name: "sagascope_ingest_batch_duration_seconds",
    help: "Time from a batch handed over by Kafka to its rows stored (batches queued together share one transaction)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const deliverySeconds = new Histogram({
    name: "sagascope_ingest_delivery_seconds",
    help: "Time from a batch's oldest message's Kafka timestamp to the batch handed to the ingester: its wait in Kafka and in the consumer's fetch cycle (the producer's clock, unless the topic keeps LogAppendTime)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const failedBatches = new Counter({
    name: "sagascope_ingest_failed_batches_total",
    help: "Failed attempts to store a batch (it is stored again before the later batches of its partition)",
    registers,
  });
  const deadLetters = new Counter({
    name: "sagascope_dead_letters_total",
    help: "Messages quarantined, by kind of reason",
    labelNames: ["reason"] as const,
    registers,
  });
  const started = new Counter({
    name: "sagascope_sagas_started_total",
    help: "Sagas seen starting, by type and mode",
    labelNames: ["saga_type", "mode"] as const,
    registers,
  });
  const ended = new Counter({
    name: "sagascope_sagas_ended_total",
    help: "Sagas that ended, by type, mode and status (completed, compensated, failed, resolved)",
    labelNames: ["saga_type", "mode", "status"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "sagascope_saga_duration_seconds",
    help: "From a saga's start to its end, by type, mode and end status",
    labelNames: ["saga_type", "mode", "status"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers,
  });
  const breakerCalls = new Counter({
    name: "sagascope_circuitbreaker_calls_total",
    help: "Calls through each caller→callee breaker, by kind (successful, failed, business, not_permitted), from the callers' windows",
    labelNames: ["pair", "kind"] as const,
    registers,
  });
  const lag = new Gauge({
    name: "sagascope_ingest_lag",
    help: "Messages on each partition the ingester has not consumed yet, at its last batch",
    labelNames: ["topic", "partition"] as const,
    registers,
  });
  const lagSeconds = new Gauge({
    name: "sagascope_ingest_lag_seconds",
    help: "While behind on a partition: the age of the last message it consumed there (an upper bound of the wait); 0 when caught up",
    labelNames: ["topic", "partition"] as const,
    registers,
  });

  const behindBy = new Map<string, number>();

  return {
    /** Messages not consumed yet, summed over the partitions this ingester last read. */
    totalLag: () => [...behindBy.values()].reduce((a, b) => a + b, 0),
    batch(seconds: number) {
      batchSeconds.observe(seconds);
    },
    /** A batch handed over now whose oldest message Kafka stamped at `oldestTimestampMs` (a clock ahead of ours counts as 0). */
    delivered(oldestTimestampMs: number) {
      if (Number.isFinite(oldestTimestampMs))
        deliverySeconds.observe(Math.max(0, (Date.now() - oldestTimestampMs) / 1000));
    },
    failedBatch() {
      failedBatches.inc();
    },
    messages(kind: MessageKind, outcome: "stored" | "duplicate" | "dead_lettered", n: number) {
      if (n > 0) messages.inc({ kind, outcome }, n);
    },
    deadLetters(reasons: string[], reported = false) {
      for (const reason of reasons)
        deadLetters.inc({ reason: reported ? "reported" : deadLetterReasonKind(reason) });
    },
    sagas(transitions: SagaTransition[]) {
      for (const t of transitions) {
        const labels = { saga_type: sagaType(t.sagaType), mode: t.mode };
        if (t.from === null) started.inc(labels);
        if (ENDED_STATUSES.has(t.to) && !(t.from !== null && ENDED_STATUSES.has(t.from))) {
          ended.inc({ ...labels, status: t.to });
          if (t.durationMs !== null) duration.observe({ ...labels, status: t.to }, t.durationMs / 1000);
        }
      }
    },
    breakerWindows(events: BreakerEvent[]) {
      for (const e of events) {
        if (e.type !== "io.sagascope.breaker.stats") continue;
        const d = e.data as Extract<BreakerEvent["data"], { windowStart: string }>;
        const pair = pairLabel(d.pair);
        const add = (kind: string, n: number) => n > 0 && breakerCalls.inc({ pair, kind }, n);
        add("successful", d.successes);
        add("failed", d.failures);
        add("business", d.business);
        add("not_permitted", d.rejections);
      }
    },
    lag(topic: string, partition: number, behind: number, lastTimestampMs: number) {
      const labels = {
        topic,
        partition: partitionLabel(`${topic}/${partition}`) === "other" ? "other" : String(partition),
      };
      lag.set(labels, behind);
      behindBy.set(`${topic}/${partition}`, behind);
      lagSeconds.set(labels, behind > 0 ? Math.max(0, (Date.now() - lastTimestampMs) / 1000) : 0);
    },
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
