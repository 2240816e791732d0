// `npm run demo`: infrastructure up, migrations applied, demo fleet, ingester and
// dashboard running; Ctrl-C stops what it started.

import { migrate } from "../server/db/migrate.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "../server/fleet/demo-manifest.ts";
import { fleetEnv } from "../server/fleet/fleet-env.ts";
import { buildDashboard, buildProcesses } from "./build/build-steps.ts";
import { demoPlan, type InfraUp, infraDown, infraUp, planEnv } from "./infra/infra.ts";
import { ensurePostgres } from "./infra/postgres.ts";
import { step } from "./infra/progress.ts";
import { type Child, startBuilt, stopChild, waitForHttp } from "./processes.ts";

/** docs/monitoring/README.md lists these. */
const DEMO_METRICS_PORTS = {
  ingester: 9464,
  projector: 9465,
  "transfers-1": 9466,
  "transfers-2": 9467,
  "bank-a": 9468,
  "bank-b": 9469,
  screening: 9470,
  order: 9471,
  payment: 9472,
  inventory: 9473,
  shipping: 9474,
} as const;

const started = Date.now();
const config = fleetEnv();
const plan = demoPlan(config);
const children: Child[] = [];
/** Awaited on shutdown too, so that a Ctrl-C during start-up still stops the broker. */
let infra: Promise<InfraUp> | undefined;
let shuttingDown = false;

async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    console.log("[demo] stopping…");
    await Promise.all(children.map((c) => stopChild(c)));
    const up = await infra?.catch(() => undefined);
    if (up?.startedBroker) await infraDown(plan);
  }
  process.exit(code);
}

process.once("SIGINT", () => void shutdown(0));
process.once("SIGTERM", () => void shutdown(0));
process.once("SIGHUP", () => void shutdown(0));
// Last resort (an uncaught error): the children run in their own process groups and
// would outlive us, so they are killed synchronously on the way out.
process.on("exit", () => {
  for (const child of children) {
    if (child.process.pid && child.process.exitCode === null) {
      try {
        process.kill(-child.process.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

try {
  infra = infraUp(plan);
  await infra;
  await step("preparing the fleet's database", () =>
    ensurePostgres(config.FLEET_DATABASE_URL, config.given.database),
  );
  await step("applying database migrations", () =>
    migrate(config.SAGASCOPE_MIGRATION_DATABASE_URL ?? config.DATABASE_URL, (l) => console.log(`[db] ${l}`)),
  );
  // The demo runs what production runs: the built processes (docs/deployment.md).
  await step("building the processes", buildProcesses);
  await step("building the dashboard (next build)", buildDashboard);

  const childEnv = {
    ...planEnv(plan),
    FLEET_DATABASE_URL: config.FLEET_DATABASE_URL,
    // The demo fleet describes itself (its shared topics, its fault switches, what the
    // projector reads) as any fleet may; the web process and the projector read it.
    SAGASCOPE_FLEET_MANIFEST: process.env.SAGASCOPE_FLEET_MANIFEST || DEMO_FLEET_MANIFEST_PATH,
  };
  /** Each process's /metrics, /healthz and /readyz on a port of its own (docs/monitoring). */
  const metricsOn = (name: keyof typeof DEMO_METRICS_PORTS, env: Record<string, string>) => ({
    ...env,
    SAGASCOPE_METRICS_PORT: String(DEMO_METRICS_PORTS[name]),
  });
  /** The platform's own processes: if one dies, the demo stops. */
  const essential = (child: Child) => {
    children.push(child);
    void child.exited.then((code) => {
      if (!shuttingDown) {
        console.error(`[demo] ${child.name} exited (code ${code}); stopping the demo`);
        void shutdown(1);
      }
    });
    return child;
  };
  /** The fleet's services: a crash (injected or not) is followed by a restart, as in production. */
  const restarting = (name: string, role: string, env: Record<string, string>) => {
    const launch = () => {
      const child = startBuilt(name, role, env);
      children.push(child);
      void child.exited.then((code) => {
        children.splice(children.indexOf(child), 1);
        if (shuttingDown) return;
        console.error(`[demo] ${name} exited (code ${code}); restarting it in 1 s`);
        setTimeout(() => !shuttingDown && launch(), 1000);
      });
    };
    launch();
  };

  essential(startBuilt("ingester", "ingest", metricsOn("ingester", childEnv)));
  restarting("bank-a", "bank", metricsOn("bank-a", { ...childEnv, FLEET_BANK: "bank-a" }));
  // A light transient fault on bank B, so that retries show up in the demo; bank B screens
  // every credit with the screening service, through a breaker.
  restarting("screening", "screening", metricsOn("screening", childEnv));
  restarting(
    "bank-b",
    "bank",
    metricsOn("bank-b", {
      ...childEnv,
      FLEET_BANK: "bank-b",
      FLEET_BANK_ERROR_RATE: "0.05",
      FLEET_BANK_B_SCREENING: "on",
    }),
  );
  // Two orchestrator instances share the transfers (and take over each other's when one dies).
  const perInstanceRate = String(config.SAGASCOPE_DEMO_RATE / 2);
  for (const id of ["transfers-1", "transfers-2"] as const) {
    restarting(
      id,
      "transfers",
      metricsOn(id, { ...childEnv, FLEET_ORCHESTRATOR_ID: id, SAGASCOPE_DEMO_RATE: perInstanceRate }),
    );
  }
  // The choreographed checkout: four participants, no coordinator; the order service places
  // orders at the demo rate, and payment fails a few calls so that retries show up.
  for (const service of ["order", "payment", "inventory", "shipping"] as const) {
    restarting(
      service,
      "checkout",
      metricsOn(service, {
        ...childEnv,
        FLEET_CHECKOUT_SERVICE: service,
        FLEET_CHECKOUT_ERROR_RATE: service === "payment" ? "0.05" : "0",
      }),
    );
  }
  // The projector builds the order and account views from the services' change topics.
  restarting("projector", "projector", metricsOn("projector", childEnv));
  // Demo mode unless told otherwise: a visitor acts as the demo operator, the fault panel shows.
  const web = essential(
    startBuilt("web", "web", {
      ...childEnv,
      PORT: String(config.PORT),
      HOSTNAME: "127.0.0.1",
      SAGASCOPE_MODE: process.env.SAGASCOPE_MODE || "demo",
    }),
  );
  const url = `http://127.0.0.1:${config.PORT}`;
  await step("waiting for the dashboard", () => waitForHttp(`${url}/sagas`, web));
  console.log(
    `\n  Sagascope is running: ${url}/overview  (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  console.log("  Transfers and checkouts run continuously; press Ctrl-C to stop the demo.");
  console.log("  You act as the demo operator; the fault panel is at /faults. See docs/operators.md.\n");
} catch (error) {
  console.error(`[demo] cannot start: ${error instanceof Error ? error.message : String(error)}`);
  await shutdown(1);
}
