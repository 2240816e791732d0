// The typed Prisma client over the pg driver adapter (no native engine needed), on a pool of
// ours, so that a connection lost mid-query is handled as on every other pool (server/db/pool.ts).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";
import { createPool } from "./pool.ts";

export type { PrismaClient } from "./generated/client.ts";

export function createPrisma(databaseUrl: string): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg(createPool(databaseUrl, 10), { disposeExternalPool: true }),
  });
}
