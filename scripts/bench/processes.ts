// `npm run bench:processes`: resident memory and start-up time of each process run from its
// TypeScript source through tsx (as the demo and tests run them) and built (`npm run build`,
// `sagascope <role>`), same run, each started 3 times, alternating. Start-up is until the
// process answers /healthz; memory is the resident set of its whole process group 5 s after.
// Uses the test profile's servers and a database of its own; prints figures, asserts nothing.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { env, siblingDatabase } from "../../server/env.ts";
import { DEMO_FLEET_MANIFEST_PATH } from "../../server/fleet/demo-manifest.ts";
import { infraDown, infraUp, testPlan } from "../infra/infra.ts";
import { recreateDatabase } from "../infra/postgres.ts";
import { step } from "../infra/progress.ts";
import { type Child, freePort, startChild, stopChild } from "../processes.ts";

if (!existsSync("dist/server/sagascope.mjs") || !existsSync(".next/standalone/server.js")) {
  console.error("bench:processes measures the built processes too: run `npm run build` first");
  process.exit(1);
}

const RUNS = 3;

/** Resident KiB of every process in the group led by `pid` (tsx runs node in a child of its own). */
function groupRssKiB(pid: number): number {
  const out = execFileSync("ps", ["-o", "rss=", "-g", String(pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0)
    .reduce((a, b) => a + b, 0);
}

async function healthy(url: string, child: Child, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode})`);
    const ok = await fetch(url)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s`);
}

interface Way {
  label: string;
  command: string;
  args: string[];
}

async function measure(name: string, way: Way, baseEnv: Record<string, string>, viaWebPort: boolean) {
  const port = await freePort();
  const env = viaWebPort
    ? { ...baseEnv, PORT: String(port) }
    : { ...baseEnv, SAGASCOPE_METRICS_PORT: String(port) };
  const began = Date.now();
  const child = startChild(`${name} (${way.label})`, way.command, way.args, env, "quiet");
  try {
    await healthy(`http://127.0.0.1:${port}/healthz`, child);
    const startMs = Date.now() - began;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return { startMs, rssMiB: groupRssKiB(child.process.pid as number) / 1024 };
  } finally {
    await stopChild(child, 10_000);
  }
}

const plan = testPlan(env());
const { startedBroker } = await infraUp(plan);
try {
  const databaseUrl = siblingDatabase(plan.databaseUrl, "_processes");
  await step("a database of its own", () => recreateDatabase(databaseUrl));
  const prefix = `bench-processes-${Date.now().toString(36)}.`;
  const baseEnv = {
    DATABASE_URL: databaseUrl,
    FLEET_DATABASE_URL: siblingDatabase(databaseUrl, "_fleet"),
    REDIS_URL: plan.redisUrl,
    KAFKA_BROKERS: plan.kafkaBrokers.join(","),
    SAGASCOPE_TOPIC_PREFIX: prefix,
    SAGASCOPE_INGEST_GROUP: `${prefix}ingester`,
    SAGASCOPE_MODE: "demo",
    SAGASCOPE_FLEET_MANIFEST: DEMO_FLEET_MANIFEST_PATH,
    SAGASCOPE_LOG_LEVEL: "warn",
    NODE_ENV: "production",
  };
  await step("preparing the fleet's database", () => recreateDatabase(baseEnv.FLEET_DATABASE_URL));
  const roles: { name: string; env: Record<string, string>; web: boolean; source: Way }[] = [
    {
      name: "ingest",
      env: {},
      web: false,
      source: { label: "tsx", command: "node_modules/.bin/tsx", args: ["server/ingest/main.ts"] },
    },
    {
      name: "bank",
      env: { FLEET_BANK: "bank-a", FLEET_BANK_A_ADDRESS: `127.0.0.1:${await freePort()}` },
      web: false,
      source: { label: "tsx", command: "node_modules/.bin/tsx", args: ["server/fleet/bank/main.ts"] },
    },
    {
      name: "web",
      env: { HOSTNAME: "127.0.0.1" },
      web: true,
      source: {
        label: "next start",
        command: "node_modules/.bin/next",
        args: ["start", "--hostname", "127.0.0.1"],
      },
    },
  ];
  const rows: string[] = [];
  for (const role of roles) {
    const built = { label: "built", command: "node", args: ["bin/sagascope.mjs", role.name] };
    const figures = {
      source: [] as { startMs: number; rssMiB: number }[],
      built: [] as { startMs: number; rssMiB: number }[],
    };
    for (let run = 0; run < RUNS; run++)
      for (const [key, way] of (run % 2 === 0
        ? [
            ["source", role.source],
            ["built", built],
          ]
        : [
            ["built", built],
            ["source", role.source],
          ]) as ["source" | "built", Way][])
        figures[key].push(
          await step(`${role.name}, ${way.label}, run ${run + 1} of ${RUNS}`, () =>
            measure(role.name, way, { ...baseEnv, ...role.env }, role.web),
          ),
        );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const s = {
      start: median(figures.source.map((f) => f.startMs)),
      rss: median(figures.source.map((f) => f.rssMiB)),
    };
    const b = {
      start: median(figures.built.map((f) => f.startMs)),
      rss: median(figures.built.map((f) => f.rssMiB)),
    };
    rows.push(
      `  ${role.name.padEnd(7)} ${role.source.label.padEnd(10)} ${String(s.start).padStart(6)} ms ${s.rss.toFixed(0).padStart(5)} MiB   built ${String(b.start).padStart(6)} ms ${b.rss.toFixed(0).padStart(5)} MiB   ratio built/source: start ${(b.start / s.start).toFixed(2)}, memory ${(b.rss / s.rss).toFixed(2)}`,
    );
  }
  console.log(
    "\nbench:processes (medians of 3 starts each; memory of the process group 5 s after it answered /healthz)",
  );
  for (const row of rows) console.log(row);
} finally {
  if (startedBroker) await infraDown(plan);
}
