// The service map's data: who calls whom over gRPC (the breaker pairs in Redis, with the
// callers' recent stats from Postgres), who publishes to and reads which Kafka topic (the saga
// events stored recently, the projector's last checkpoint, the code's wiring), each one's
// error rate or lag, laid out for drawing. A store that cannot be read is reported and the
// map is drawn from the other; only when neither answers does the read fail.
import { effectiveForced, windowTotals } from "../../breakers/breaker-machine.ts";
import { type BreakerStore, parsePairId } from "../../breakers/index.ts";
import type { Pool } from "../../db/pool.ts";
import type { AppError } from "../../errors.ts";
import type { FleetManifest } from "../../fleet-manifest/fleet-manifest.ts";
import { PROJECTION } from "../../projections/read-model.ts";
import { postgresFailure, redisFailure } from "../../source-failure.ts";
import { buildServiceMap } from "./build-service-map.ts";
import { knownWiring } from "./known-wiring.ts";
import { layoutServiceMap } from "./layout-service-map.ts";
import type { ServiceMap } from "./map-model.ts";
import type {
  BreakerReading,
  Figures,
  IngestReading,
  ProjectorReading,
  SagaTraffic,
} from "./map-readings.ts";

export const SERVICE_MAP_WINDOWS = {
  /** Saga events stored this recently make the Kafka part and the services' error rates. */
  trafficMs: 15 * 60_000,
  /** The callers' breaker stats windows that ended this recently make the gRPC edges' figures. */
  breakerStatsMs: 5 * 60_000,
  /** The ingester's delay is measured over the events it stored this recently. */
  ingestDelayMs: 60_000,
};
/**
 * An event produced this long before it was stored is not recent traffic (a replay); the bound
 * on `time` lets Postgres skip the older monthly partitions of saga_event.
 */
const EVENT_AGE_LIMIT_MS = 60 * 60_000;
/** A map with more publisher × service × topic combinations than this is unreadable anyway. */
const TRAFFIC_ROWS = 1000;
const STEP_STARTED = "io.sagascope.saga.step.started";
const STEP_FAILED = "io.sagascope.saga.step.failed";

export interface ServiceMapDeps {
  pool: Pool;
  breakerStore: BreakerStore;
  /** SAGASCOPE_TOPIC_PREFIX: names the topics of the code's wiring and is left off the labels. */
  prefix: string;
  /** What the fleet says of itself (its shared topics); NO_MANIFEST when it says nothing. */
  fleet: FleetManifest;
}

type LiveBreaker = Omit<BreakerReading, "recent">;

export async function readServiceMap(deps: ServiceMapDeps, now = Date.now()): Promise<ServiceMap> {
  const failures: AppError[] = [];
  const breakers = await readLiveBreakers(deps.breakerStore, now).catch((error) => {
    failures.push(redisFailure("the breakers' live state", error));
    return null;
  });
  const stored = await readStored(
    deps.pool,
    (breakers ?? []).map((b) => b.pair),
    now,
  ).catch((error) => {
    failures.push(postgresFailure("the recent events, breaker figures and projector checkpoints", error));
    return null;
  });
  if (!breakers && !stored) throw failures[0];

  const graph = buildServiceMap({
    now,
    prefix: deps.prefix,
    wiring: knownWiring(deps.prefix, deps.fleet),
    windows: SERVICE_MAP_WINDOWS,
    traffic: stored?.traffic ?? [],
    breakers: (breakers ?? []).map((b) => ({
      ...b,
      recent: stored?.stats.get(b.pair) ?? { calls: 0, failures: 0, rejections: 0, reports: 0, instances: 0 },
    })),
    projector: stored?.projector ?? null,
    ingest: stored?.ingest ?? null,
  });
  return {
    ...layoutServiceMap(graph),
    readAt: new Date(now),
    windows: { trafficMs: SERVICE_MAP_WINDOWS.trafficMs, breakerStatsMs: SERVICE_MAP_WINDOWS.breakerStatsMs },
    problems: failures.map((f) => f.message),
  };
}

/** Every pair's state and current window from Redis, the breakers' global cache. */
async function readLiveBreakers(store: BreakerStore, now: number): Promise<LiveBreaker[]> {
  const pairs = await store.listPairs();
  const read = await Promise.all(
    pairs.map(async (pair): Promise<LiveBreaker | null> => {
      const parsed = parsePairId(pair);
      if (!parsed) return null;
      const [snapshot, config, window] = await Promise.all([
        store.readState(pair),
        store.readConfig(pair),
        store.readWindow(pair),
      ]);
      const totals = windowTotals(window, config, now);
      return {
        pair,
        caller: parsed.caller,
        callee: parsed.callee,
        operation: parsed.operation ?? null,
        state: snapshot.state,
        forced: effectiveForced(snapshot, now),
        reason: snapshot.reason,
        live: { calls: totals.calls, failures: totals.failures, rejections: totals.rejections },
      };
    }),
  );
  return read.filter((b): b is LiveBreaker => b !== null);
}

async function readStored(pool: Pool, pairs: string[], now: number) {
  const [traffic, ingest, projector, stats] = await Promise.all([
    readTraffic(pool, now),
    readIngestDelay(pool, now),
    readProjector(pool),
    readBreakerStats(pool, pairs, now),
  ]);
  return { traffic: traffic.rows, ingest: { ...ingest, newestStoredAt: traffic.newest }, projector, stats };
}

async function readTraffic(pool: Pool, now: number) {
  const { rows } = await pool.query<SagaTraffic & { newest: Date }>(
    `SELECT source, service, kafka_topic AS topic,
            count(*)::int AS events,
            count(*) FILTER (WHERE type = $3)::int AS attempts,
            count(*) FILTER (WHERE type = $4)::int AS failed,
            count(*) FILTER (WHERE type = $4 AND data #>> '{error,category}' = 'business')::int AS business,
            max(ingested_at) AS newest
       FROM saga_event
      WHERE ingested_at >= $1 AND time >= $2
      GROUP BY source, service, kafka_topic
      ORDER BY events DESC
      LIMIT ${TRAFFIC_ROWS}`,
    [
      new Date(now - SERVICE_MAP_WINDOWS.trafficMs),
      new Date(now - SERVICE_MAP_WINDOWS.trafficMs - EVENT_AGE_LIMIT_MS),
      STEP_STARTED,
      STEP_FAILED,
    ],
  );
  const newest = rows.reduce<Date | null>((n, r) => (n && n >= r.newest ? n : r.newest), null);
  return { rows: rows.map(({ newest: _, ...r }) => r), newest };
}

async function readIngestDelay(pool: Pool, now: number): Promise<Omit<IngestReading, "newestStoredAt">> {
  const { rows } = await pool.query<{ events: number; p95: number | null }>(
    `SELECT count(*)::int AS events,
            percentile_cont(0.95) WITHIN GROUP
              (ORDER BY greatest(0, extract(epoch FROM ingested_at - time) * 1000)) AS p95
       FROM saga_event
      WHERE ingested_at >= $1 AND time >= $2`,
    [
      new Date(now - SERVICE_MAP_WINDOWS.ingestDelayMs),
      new Date(now - SERVICE_MAP_WINDOWS.ingestDelayMs - EVENT_AGE_LIMIT_MS),
    ],
  );
  const row = rows[0];
  return { events: row?.events ?? 0, delayP95Ms: row && row.p95 !== null ? Number(row.p95) : null };
}

/** The active generation's latest checkpoint, per topic. */
async function readProjector(pool: Pool): Promise<ProjectorReading | null> {
  const latest = await pool.query<{ checkpoint_id: string; time: Date; generation: number }>(
    `SELECT checkpoint_id, time, generation FROM projection_lag_sample
      WHERE projection = $1 AND active ORDER BY time DESC LIMIT 1`,
    [PROJECTION],
  );
  const checkpoint = latest.rows[0];
  if (!checkpoint) return null;
  const { rows } = await pool.query<{
    topic: string;
    offset_lag: number;
    log_end: number;
    oldest: number | null;
  }>(
    `SELECT topic, sum(offset_lag)::float8 AS offset_lag, sum(log_end_offset)::float8 AS log_end,
            max(oldest_unapplied_age_ms) AS oldest
       FROM projection_lag_sample WHERE checkpoint_id = $1 GROUP BY topic ORDER BY topic`,
    [checkpoint.checkpoint_id],
  );
  return {
    sampledAt: checkpoint.time,
    generation: checkpoint.generation,
    topics: rows.map((r) => ({
      topic: r.topic,
      offsetLag: r.offset_lag,
      logEndOffset: r.log_end,
      oldestUnappliedAgeMs: r.oldest,
    })),
  };
}

/** The callers' stats windows per pair that ended within the stats window, summed over instances. */
async function readBreakerStats(pool: Pool, pairs: string[], now: number) {
  if (pairs.length === 0) return new Map<string, Figures & { reports: number; instances: number }>();
  const { rows } = await pool.query<Figures & { pair: string; reports: number; instances: number }>(
    `SELECT pair, sum(calls)::int AS calls, sum(failures)::int AS failures, sum(rejections)::int AS rejections,
            count(*)::int AS reports, count(DISTINCT instance)::int AS instances
       FROM breaker_stats
      WHERE pair = ANY($1::text[]) AND window_end >= $2
      GROUP BY pair`,
    [pairs, new Date(now - SERVICE_MAP_WINDOWS.breakerStatsMs)],
  );
  return new Map(rows.map(({ pair, ...figures }) => [pair, figures]));
}
