// What integration tests get from the global fixture, and small helpers around it.
import { randomBytes } from "node:crypto";
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
