// `sagascope <role>`: one entry point for every process, built to plain JavaScript by
// `npm run build` (dist/server). Each role is loaded only when asked for, so a process holds
// only its own code. Configuration comes from the environment, as documented in the README.
import path from "node:path";
import { fileURLToPath } from "node:url";

interface Role {
  about: string;
  run: () => Promise<unknown>;
}

/** Where the Next.js standalone server is, from dist/server. */
const WEB_SERVER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../.next/standalone/server.js",
);

const ROLES: Record<string, Role> = {
  web: {
    about: "the dashboard (Next.js, built): PORT (3000) on HOSTNAME (127.0.0.1)",
    run: async () => {
      process.env.HOSTNAME ??= "127.0.0.1";
      process.env.PORT ??= "3000";
      return import(WEB_SERVER);
    },
  },
  ingest: {
    about: "the ingester: Kafka → Postgres, stuck sweeper, alerts, traces",
    run: () => import("./ingest/main.ts"),
  },
  migrate: { about: "apply pending migrations, then exit", run: () => import("./db/migrate-main.ts") },
  projector: {
    about: "the demo fleet's projector (its read model)",
    run: () => import("./projections/main.ts"),
  },
  bank: { about: "a demo bank (FLEET_BANK: bank-a, bank-b)", run: () => import("./fleet/bank/main.ts") },
  transfers: { about: "the demo transfer orchestrator", run: () => import("./fleet/transfer/main.ts") },
  checkout: { about: "the demo checkout participants", run: () => import("./fleet/checkout/main.ts") },
  screening: { about: "the demo screening service", run: () => import("./fleet/screening/main.ts") },
};

function help(): string {
  const width = Math.max(...Object.keys(ROLES).map((r) => r.length));
  return [
    "usage: sagascope <role>",
    "",
    "roles:",
    ...Object.entries(ROLES).map(([name, role]) => `  ${name.padEnd(width)}  ${role.about}`),
    "",
    "Settings come from the environment (DATABASE_URL, KAFKA_BROKERS, REDIS_URL, …): see the README.",
  ].join("\n");
}

const asked = process.argv[2];
if (!asked || asked === "--help" || asked === "-h" || asked === "help") {
  console.log(help());
  process.exit(asked ? 0 : 2);
}
const role = ROLES[asked];
if (!role) {
  console.error(`sagascope: no role "${asked}"\n\n${help()}`);
  process.exit(2);
}
await role.run();
