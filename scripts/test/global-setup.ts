// One fixture for the whole vitest run: the test profile's infrastructure (its own
// database, Redis db and Kafka broker), migrated, shared with every test through inject().
// When scripts/test.ts already brought it up, it passes the plan in the environment.
import type { TestProject } from "vitest/node";
import { migrate } from "../../server/db/migrate.ts";
import { env } from "../../server/env.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { ensureDebianTool, KCAT } from "./debian-tools.ts";
import type { TestInfra } from "./infra.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  ensureDebianTool(KCAT, (line) => console.log(`[test] ${line}`));
  const plan = testPlan(env());
  const alreadyUp = process.env.SAGASCOPE_TEST_INFRA_UP === "1";
  const up = alreadyUp ? { startedBroker: false } : await infraUp(plan);
  // scripts/test.ts has already made it fresh when it brought the infrastructure up.
  if (!alreadyUp) await recreateDatabase(plan.databaseUrl);
  await migrate(plan.databaseUrl);
  const infra: TestInfra = {
    databaseUrl: plan.databaseUrl,
    redisUrl: plan.redisUrl,
    kafkaBrokers: plan.kafkaBrokers,
  };
  project.provide("infra", infra);
  return async () => {
    if (up.startedBroker) await infraDown(plan);
  };
}
