// The web process's shared dependencies, created on first request (not at build time)
// and kept across hot reloads in development.
import { Redis } from "ioredis";
import { createBreakerStore } from "../breakers/index.ts";
import { createPool } from "../db/pool.ts";
import { createPrisma } from "../db/prisma.ts";
import { env } from "../env.ts";
import { createBreakerChangeFeed } from "../live/breaker-change-feed.ts";
import { createSagaChangeFeed } from "../live/saga-change-feed.ts";
import { createLogger } from "../log.ts";
import type { Context } from "./init.ts";

const holder = globalThis as unknown as { sagascopeContext?: Context };

export function createContext(): Context {
  if (!holder.sagascopeContext) {
    const config = env();
    const log = createLogger("web", config.SAGASCOPE_LOG_LEVEL);
    // Commands fail fast while Redis is away: the page says so instead of hanging.
    const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, retryStrategy: () => 1000 });
    redis.on("error", (error) => log.debug("Redis error", { error: error.message }));
    const breakerStore = createBreakerStore(redis, config.SAGASCOPE_TOPIC_PREFIX, log);
    holder.sagascopeContext = {
      prisma: createPrisma(config.DATABASE_URL),
      pool: createPool(config.DATABASE_URL, 4),
      sagaChanges: createSagaChangeFeed(config.DATABASE_URL, log),
      breakerStore,
      breakerChanges: createBreakerChangeFeed(config.REDIS_URL, breakerStore.channel, log),
    };
  }
  return holder.sagascopeContext;
}
