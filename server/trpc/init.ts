// tRPC's one initialisation: context, transformer, and the AppError → tRPC error map.

import "server-only";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import type { Actor } from "../../browser-safe/roles.ts";
import { can, type Permission } from "../../browser-safe/roles.ts";
import { auditRefusal } from "../actions/audit-refusal.ts";
import { appendAudit, newActionId } from "../audit/audit-log.ts";
import type { RequestAuth } from "../auth/request-auth.ts";
import type { BreakerStore } from "../breakers/index.ts";
import { DATABASE_UNREACHABLE_MESSAGE, databaseUnreachableReason } from "../db/database-unreachable.ts";
import type { Pool } from "../db/pool.ts";
import type { PrismaClient } from "../db/prisma.ts";
import { AppError, type AppErrorCode } from "../errors.ts";
import type { FleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import type { BreakerChangeFeed } from "../live/breaker-change-feed.ts";
import type { SagaChangeFeed } from "../live/saga-change-feed.ts";

export interface Context {
  prisma: PrismaClient;
  /** Raw SQL for the projections' read model (its tables live outside the Prisma schema). */
  pool: Pool;
  sagaChanges: SagaChangeFeed;
  breakerStore: BreakerStore;
  breakerChanges: BreakerChangeFeed;
  /**
   * Who is behind an HTTP request (always set by the HTTP handler). Absent only for callers
   * inside the server process (tests, benchmarks), which are trusted to read.
   */
  auth?: RequestAuth;
  /** What the fleet says of itself (SAGASCOPE_FLEET_MANIFEST), read once; absent: it says nothing. */
  fleet?: FleetManifest;
  /** What operator actions need: Kafka, the deployment's names and limits (HTTP handler only). */
  actions?: ActionDeps;
}

export interface ActionDeps {
  /** A connected producer, for control commands and breaker events. */
  producer: () => Promise<import("kafkajs").Producer>;
  topicPrefix: string;
  mode: "demo" | "production";
  bulkCap: number;
  /** The most sagas one bulk operation works through, and how many a second it sends commands to. */
  operationCap: number;
  operationRate: number;
  redis: import("ioredis").Redis;
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
});

const trpcCode: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/** Who a refusal is recorded against: the signed-in user, or anonymous. */
const refusedActor = (ctx: Context) => ({
  actor: ctx.auth?.actor?.email ?? "anonymous",
  actorRole: ctx.auth?.actor?.role ?? "none",
});

const appErrors = t.middleware(async ({ ctx, path, type, next }) => {
  const result = await next();
  // A mutation whose input does not validate never reaches its action's audit: record it here.
  if (!result.ok && result.error.code === "BAD_REQUEST" && type === "mutation" && ctx.auth)
    await auditRefusal(ctx.pool, {
      ...refusedActor(ctx),
      action: path,
      why: `invalid input: ${result.error.message}`.slice(0, 1000),
    }).catch(() => undefined);
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: trpcCode[cause.code], message: cause.message, cause });
  }
  const unreachable = result.ok ? undefined : databaseUnreachableReason(result.error.cause ?? result.error);
  if (!result.ok && unreachable)
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `${DATABASE_UNREACHABLE_MESSAGE} (${unreachable})`,
      cause: result.error,
    });
  return result;
});

const signedIn = t.middleware(({ ctx, next }) => {
  if (ctx.auth && !ctx.auth.actor)
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: ctx.auth.problem ?? "sign in to see this (the dashboard asks who you are in production mode)",
    });
  return next();
});

/** What an action's handler is given: the context, with who acts and the actions' dependencies. */
export type ActionContext = Context & { auth: RequestAuth; actor: Actor; actions: ActionDeps };

/** An action: a signed-in request from this site carrying its session's CSRF token. */
const safeAction = t.middleware(async ({ ctx, path, next }) => {
  if (!ctx.auth || !ctx.actions)
    throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "actions are served over HTTP only" });
  const refuse = async (code: "UNAUTHORIZED" | "FORBIDDEN", message: string, why: string) => {
    await auditRefusal(ctx.pool, { ...refusedActor(ctx), action: path, why }).catch(() => undefined);
    throw new TRPCError({ code, message });
  };
  if (!ctx.auth.actor)
    return refuse("UNAUTHORIZED", ctx.auth.problem ?? "sign in to act", "no session: not signed in");
  if (!ctx.auth.safeForActions)
    return refuse(
      "FORBIDDEN",
      "refused: this request did not come from the dashboard's page (its CSRF token or origin is missing or wrong): reload the page and try again",
      "no CSRF token of the session, or not from this site",
    );
  return next({ ctx: { ...ctx, auth: ctx.auth, actor: ctx.auth.actor, actions: ctx.actions } });
});

/**
 * A read only some roles may make (the user list: admins): refused with FORBIDDEN and
 * audited as denied for the others. In-process callers without a request (tests, tools) pass.
 */
export const readWith = (permission: Permission, what: string) =>
  t.middleware(async ({ ctx, next }) => {
    const actor = ctx.auth?.actor;
    if (ctx.auth && actor && !can(actor.role, permission)) {
      const why = `the ${actor.role} role may not read ${what}`;
      await appendAudit(
        ctx.pool,
        {
          actionId: newActionId(),
          actor: actor.email,
          actorRole: actor.role,
          action: `read:${permission}`,
          target: what,
          params: {},
          idempotencyKey: null,
        },
        "denied",
        why,
      );
      throw new TRPCError({ code: "FORBIDDEN", message: `refused: ${why}` });
    }
    return next();
  });

export const router = t.router;
/** Open to anyone: only what signing in itself needs. */
export const openProcedure = t.procedure.use(appErrors);
/** Reads: anyone signed in (any role), or the demo operator. */
export const publicProcedure = t.procedure.use(appErrors).use(signedIn);
/** Mutations; each checks its own permission (and audits a refusal) in performAction. */
export const actionProcedure = t.procedure.use(appErrors).use(safeAction);
export const createCallerFactory = t.createCallerFactory;
