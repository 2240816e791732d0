// What the service map is built from: the stores' readings (saga traffic, breaker pairs,
// the projector's checkpoint, the ingester's delay), and the drafts the builder gathers
// services and Kafka edges into before it turns them into nodes and edges.
import type { BreakerStateName, ForcedState } from "../../breakers/index.ts";
import type { KnownWiring } from "./known-wiring.ts";
import type { EdgeKind } from "./map-model.ts";

export interface Figures {
  calls: number;
  failures: number;
  rejections: number;
}

/** Saga events stored in the window, counted per publisher, step owner and topic. */
export interface SagaTraffic {
  /** CloudEvents source of the events: who published them. */
  source: string;
  /** The service that owns the steps they are about (null for saga-level events). */
  service: string | null;
  topic: string;
  events: number;
  /** step.started events (one per attempt), step.failed events, and of these the business refusals. */
  attempts: number;
  failed: number;
  business: number;
}

export interface BreakerReading {
  pair: string;
  caller: string;
  callee: string;
  operation: string | null;
  state: BreakerStateName;
  forced: ForcedState | null;
  reason: string;
  /** The breaker's own sliding window in Redis, now. */
  live: Figures;
  /** The callers' stats windows that ended within the stats window, summed over instances. */
  recent: Figures & { reports: number; instances: number };
}

export interface ProjectorReading {
  sampledAt: Date;
  generation: number;
  /** The latest checkpoint, per topic (partitions summed; the oldest waiting change is the worst one). */
  topics: { topic: string; offsetLag: number; logEndOffset: number; oldestUnappliedAgeMs: number | null }[];
}

export interface IngestReading {
  /** Saga events stored within the delay window, and the 95th percentile of stored-at minus event time. */
  events: number;
  delayP95Ms: number | null;
  newestStoredAt: Date | null;
}

export interface MapReadings {
  now: number;
  prefix: string;
  wiring: KnownWiring;
  windows: { trafficMs: number; breakerStatsMs: number; ingestDelayMs: number };
  traffic: SagaTraffic[];
  breakers: BreakerReading[];
  projector: ProjectorReading | null;
  ingest: IngestReading | null;
}

/** A projector that has not checkpointed for this long (it does every 5 s) is reported silent. */
export const SILENT_CHECKPOINT_MS = 30_000;

export interface ServiceDraft {
  name: string;
  attempts: number;
  failed: number;
  business: number;
  published: number;
  grpcIn: Figures;
  /** Calls it made through its breakers (caller side), for a service with nothing else to show. */
  grpcOut: number;
}

export interface KafkaEdgeDraft {
  kind: Exclude<EdgeKind, "grpc">;
  from: string;
  to: string;
  observed: boolean;
  /** Whether anything counted its events (the projector's checkpoints do not). */
  counted: boolean;
  events: number;
  attempts: number;
  failed: number;
  business: number;
  /** How far back `events` counts, when not the traffic window. */
  windowMs?: number;
  /** For consumes edges into the projector: what its last checkpoint says about that topic. */
  lag?: { offsetLag: number; oldestMs: number | null; silent: boolean };
}
