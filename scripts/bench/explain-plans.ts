// `bench:dashboard -- --explain`: the plans behind the figures. Every SQL statement a
// procedure sends, through the pg pool or through Prisma, is recorded as it goes, then run
// again under EXPLAIN (ANALYZE, BUFFERS) with the same parameters.
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../server/db/generated/client.ts";
import type { Pool } from "../../server/db/pool.ts";

export interface Statement {
  text: string;
  args: unknown[];
}

/** The pool, recording what goes through its `query`. */
export function recordingPool(pool: Pool, into: Statement[]): Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== "query") return Reflect.get(target, property, receiver);
      return (text: string, args: unknown[] = []) => {
        into.push({ text, args });
        return target.query(text, args);
      };
    },
  });
}

/** A Prisma client over `databaseUrl` that records the SQL it sends. */
export function recordingPrisma(databaseUrl: string, into: Statement[]): PrismaClient {
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }),
    log: [{ emit: "event", level: "query" }],
  });
  prisma.$on("query", (e) => {
    into.push({ text: e.query, args: JSON.parse(e.params) as unknown[] });
  });
  return prisma;
}

export async function explain(pool: Pool, statement: Statement): Promise<string> {
  const { rows } = await pool.query<{ "QUERY PLAN": string }>(
    `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
    statement.args,
  );
  return rows.map((r) => r["QUERY PLAN"]).join("\n");
}
