// What integration tests get from the global fixture, and small helpers around it.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface TestInfra {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
}

declare module "vitest" {
  export interface ProvidedContext {
    infra: TestInfra;
  }
}

export function testInfra(): TestInfra {
  return inject("infra");
}

/** A name no other test or run uses, for topics, consumer groups and databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

/** A database of its own for one test file, on the test server; `drop` removes it. */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName(prefix);
  const admin = new pg.Client({ connectionString: testInfra().databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(testInfra().databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
