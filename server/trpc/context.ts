// The web process's shared dependencies, created on first request (not at build time)
// and kept across hot reloads in development.
import "server-only";
import { TRPCError } from "@trpc/server";
import { Redis } from "ioredis";
import { resolveRequestAuth } from "../auth/request-auth.ts";
import { ensureFirstAdmin } from "../auth/users.ts";
import { createBreakerStore } from "../breakers/index.ts";
import { DATABASE_UNREACHABLE_MESSAGE, databaseUnreachableReason } from "../db/database-unreachable.ts";
import { createPool } from "../db/pool.ts";
import { createPrisma } from "../db/prisma.ts";
import { env } from "../env.ts";
import { createKafka, lazyProducer } from "../events/kafka-client.ts";
import { readFleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import { createBreakerChangeFeed } from "../live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../live/saga-change-feed.ts";
import { createLogger } from "../log.ts";
import type { ActionDeps, Context } from "./init.ts";

type Shared = Context & { actions: ActionDeps };
const holder = globalThis as unknown as { sagascopeContext?: Shared; firstAdmin?: Promise<void> };

/** The dependencies every request shares. */
export function createContext(): Shared {
  if (!holder.sagascopeContext) {
    const config = env();
    const log = createLogger("web", config.SAGASCOPE_LOG_LEVEL);
    // Commands fail fast while Redis is away: the page says so instead of hanging.
    const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, retryStrategy: () => 1000 });
    redis.on("error", (error) => log.debug("Redis error", { error: error.message }));
    const breakerStore = createBreakerStore(redis, config.SAGASCOPE_TOPIC_PREFIX, log);
    // Bounded on both sides: so many connections, and no statement holding one for long.
    const database = { statementTimeoutMs: config.SAGASCOPE_WEB_STATEMENT_TIMEOUT_MS };
    const pool = createPool(config.DATABASE_URL, config.SAGASCOPE_WEB_DB_POOL, database);
    // Connected on the first action, not at start: reading the dashboard needs no Kafka.
    const connectProducer = lazyProducer(() =>
      createKafka("sagascope-web", config.KAFKA_BROKERS, log),
    ).connected;
    holder.sagascopeContext = {
      prisma: createPrisma(config.DATABASE_URL, {
        max: Math.max(2, Math.ceil(config.SAGASCOPE_WEB_DB_POOL / 2)),
        ...database,
      }),
      pool,
      sagaChanges: createSagaChangeFeed(config.DATABASE_URL, log),
      breakerStore,
      breakerChanges: createBreakerChangeFeed(config.REDIS_URL, breakerStore.channel, log),
      fleet: readFleetManifest(config.SAGASCOPE_FLEET_MANIFEST),
      actions: {
        producer: connectProducer,
        topicPrefix: config.SAGASCOPE_TOPIC_PREFIX,
        mode: config.SAGASCOPE_MODE,
        bulkCap: config.SAGASCOPE_BULK_CAP,
        operationCap: config.SAGASCOPE_BULK_OPERATION_CAP,
        operationRate: config.SAGASCOPE_BULK_RATE,
        redis,
      },
    };
    holder.firstAdmin = ensureFirstAdmin(
      pool,
      { email: config.SAGASCOPE_ADMIN_EMAIL, password: config.SAGASCOPE_ADMIN_PASSWORD },
      log,
    ).catch((error) => log.error("could not create the first admin", { error: String(error) }));
  }
  return holder.sagascopeContext;
}

/** Resolves once the first admin (from the environment) exists, if one is configured. */
export async function firstAdminReady(): Promise<void> {
  createContext();
  await holder.firstAdmin;
}

/** One HTTP request's context: the shared dependencies and who is asking. */
export async function createRequestContext(req: Request, resHeaders?: Headers): Promise<Context> {
  const shared = createContext();
  await holder.firstAdmin;
  try {
    return { ...shared, auth: await resolveRequestAuth(req, resHeaders, shared.pool, env()) };
  } catch (error) {
    // Who is asking is read from the database: without it, say so (503), not a bare 500.
    const unreachable = databaseUnreachableReason(error);
    if (!unreachable) throw error;
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `${DATABASE_UNREACHABLE_MESSAGE} (${unreachable})`,
      cause: error,
    });
  }
}
