// The web process's shared dependencies, created on first request (not at build time)
// and kept across hot reloads in development.
import { createPrisma } from "../db/prisma.ts";
import { env } from "../env.ts";
import { createSagaChangeFeed } from "../live/saga-change-feed.ts";
import { createLogger } from "../log.ts";
import type { Context } from "./init.ts";

const holder = globalThis as unknown as { sagascopeContext?: Context };

export function createContext(): Context {
  if (!holder.sagascopeContext) {
    const config = env();
    const log = createLogger("web", config.SAGASCOPE_LOG_LEVEL);
    holder.sagascopeContext = {
      prisma: createPrisma(config.DATABASE_URL),
      sagaChanges: createSagaChangeFeed(config.DATABASE_URL, log),
    };
  }
  return holder.sagascopeContext;
}
