// `npm run infra:up | infra:down | infra:status [-- --profile test]`.
import { z } from "zod";
import { env } from "../../server/env.ts";
import { demoPlan, infraDown, infraStatus, infraUp, testPlan } from "./infra.ts";
import { PrerequisiteError, say } from "./progress.ts";

const Args = z.tuple([z.enum(["up", "down", "status"])]).rest(z.string());

async function main(): Promise<void> {
  const parsed = Args.safeParse(process.argv.slice(2));
  if (!parsed.success) throw new PrerequisiteError("usage: cli.ts up|down|status [--profile demo|test]");
  const [command, ...rest] = parsed.data;
  const profile = z.enum(["demo", "test"]).parse(rest[rest.indexOf("--profile") + 1] ?? "demo");
  const plan = profile === "test" ? testPlan(env()) : demoPlan(env());
  if (command === "up") {
    await infraUp(plan);
    say(`${profile} infrastructure is up (npm run infra:status for details)`);
  } else if (command === "down") {
    await infraDown(plan);
  } else {
    for (const line of await infraStatus(plan)) console.log(line);
  }
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[infra] ${message}`);
  process.exit(1);
});
