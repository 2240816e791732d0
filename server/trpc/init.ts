// tRPC's one initialisation: context, transformer, and the AppError → tRPC error map.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import type { BreakerStore } from "../breakers/index.ts";
import type { Pool } from "../db/pool.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { AppError, type AppErrorCode } from "../errors.ts";
import type { BreakerChangeFeed } from "../live/breaker-change-feed.ts";
import type { SagaChangeFeed } from "../live/saga-change-feed.ts";

export interface Context {
  prisma: PrismaClient;
  /** Raw SQL for the projections' read model (its tables live outside the Prisma schema). */
  pool: Pool;
  sagaChanges: SagaChangeFeed;
  breakerStore: BreakerStore;
  breakerChanges: BreakerChangeFeed;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
});

const trpcCode: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCode[cause.code], message: cause.message, cause });
  }
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(appErrors);
export const createCallerFactory = t.createCallerFactory;
