// The typed Prisma client over the pg driver adapter (no native engine needed). The adapter
// keeps its own pool (its own type parsers: bigint stays bigint); a connection it loses is
// reported here instead of crashing the process.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

export type { PrismaClient } from "./generated/client.ts";

export function createPrisma(
  databaseUrl: string,
  options: { max?: number; statementTimeoutMs?: number } = {},
): PrismaClient {
  const ignore = () => {};
  return new PrismaClient({
    adapter: new PrismaPg(
      {
        connectionString: databaseUrl,
        ...(options.max ? { max: options.max } : {}),
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      },
      { onPoolError: ignore, onConnectionError: ignore },
    ),
  });
}
