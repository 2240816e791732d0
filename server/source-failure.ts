// Says plainly which store a breakers view could not read, and whether it is unreachable,
// instead of handing the page a driver's message alone.
import { AppError } from "./errors.ts";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  // Prisma: cannot reach the server, timed out, connection closed.
  "P1001",
  "P1002",
  "P1017",
  // Postgres: the server is shutting down or starting, or the connection failed.
  "57P01",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08006",
]);
// ioredis without an offline queue, and pg losing its socket, say so only in words.
const CONNECTION_MESSAGES =
  /enableOfflineQueue|Connection is closed|Connection terminated|connect ECONN|timeout exceeded when trying to connect|Can't reach database server/i;

function explain(error: unknown): { text: string; unreachable: boolean } {
  const e = (error ?? {}) as { message?: unknown; code?: unknown };
  const code = typeof e.code === "string" ? e.code : undefined;
  // Prisma puts the call site first and the cause on the last line; a refused connection to
  // several addresses is an AggregateError with an empty message.
  const message = typeof e.message === "string" ? (e.message.trim().split("\n").at(-1)?.trim() ?? "") : "";
  const text = message || code || String(error);
  return {
    text,
    unreachable: (code !== undefined && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(text),
  };
}

function storeFailure(store: "Redis" | "Postgres", what: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const { text, unreachable } = explain(error);
  return unreachable
    ? new AppError("UNAVAILABLE", `${store} is unreachable, so ${what} cannot be read (${text}).`, {
        cause: error,
      })
    : new AppError("INTERNAL", `Reading ${what} from ${store} failed: ${text}`, { cause: error });
}

/** Redis holds the breakers' live state, settings and windows. */
export const redisFailure = (what: string, error: unknown) => storeFailure("Redis", what, error);
/** Postgres holds what the ingester stored: transitions and stats windows. */
export const postgresFailure = (what: string, error: unknown) => storeFailure("Postgres", what, error);
