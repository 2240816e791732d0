// `npm test`: the whole suite. Brings up the test profile's infrastructure once (its own
// database, Redis db and Kafka broker, so it can run beside `npm run demo`), then runs lint,
// type check, vitest (unit + integration), the production build and Playwright in Chromium,
// stops what it started, and ends with one total line.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { migrate } from "../server/db/migrate.ts";
import { env } from "../server/env.ts";
import { infraDown, infraUp, planEnv, testPlan } from "./infra/infra.ts";
import { recreateDatabase } from "./infra/postgres.ts";
import { step } from "./infra/progress.ts";
import { ensureChromium } from "./test/chromium.ts";
import { playwrightFailures, vitestFailures } from "./test/failures.ts";

interface Stage {
  name: string;
  passed: number;
  failed: number;
  seconds: number;
  /** One line per failed test, named and with its reason, printed again in the summary. */
  failures?: string[];
}

const stages: Stage[] = [];
const bin = (name: string) => `node_modules/.bin/${name}`;

function run(command: string, args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...extraEnv },
    });
    child.on("exit", (code) => resolve(code ?? 1));
    child.on("error", (error) => {
      console.error(`[test] cannot run ${command}: ${error.message}`);
      resolve(127);
    });
  });
}

/** A check that is not a test runner (lint, types, build) counts as one test. */
async function check(name: string, command: string, args: string[]): Promise<boolean> {
  const t = Date.now();
  console.log(`\n[test] ── ${name} ──`);
  const ok = (await run(command, args)) === 0;
  stages.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, seconds: (Date.now() - t) / 1000 });
  return ok;
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined;
}

const root = process.cwd();

async function main(): Promise<number> {
  const started = Date.now();
  const plan = testPlan(env());
  rmSync("test-results", { recursive: true, force: true });
  mkdirSync("test-results", { recursive: true });
  const { startedBroker } = await infraUp(plan);
  // Ctrl-C stops the runner's children through the terminal; the broker it started runs
  // detached, so it is stopped here before leaving.
  const interrupted = async (signal: NodeJS.Signals) => {
    console.log(`\n[test] ${signal}: stopping`);
    if (startedBroker) await infraDown(plan).catch(() => {});
    process.exit(130);
  };
  process.once("SIGINT", (s) => void interrupted(s));
  process.once("SIGTERM", (s) => void interrupted(s));
  try {
    await step("creating a fresh test database", async () => {
      await recreateDatabase(plan.databaseUrl);
      await migrate(plan.databaseUrl);
    });
    const testEnv = { ...planEnv(plan), SAGASCOPE_TEST_INFRA_UP: "1" };

    await check("lint and format (biome)", bin("biome"), ["check", "--error-on-warnings", "."]);
    await check("types (tsc --noEmit)", bin("tsc"), ["--noEmit", "-p", "."]);

    console.log("\n[test] ── unit and integration tests (vitest) ──");
    let t = Date.now();
    const vitestCode = await run(
      bin("vitest"),
      ["run", "--reporter=default", "--reporter=json", "--outputFile.json=test-results/vitest.json"],
      testEnv,
    );
    const vitest = readJson<{ numPassedTests: number; numFailedTests: number }>("test-results/vitest.json");
    stages.push({
      name: "vitest",
      passed: vitest?.numPassedTests ?? 0,
      failed: vitest ? Math.max(vitest.numFailedTests, vitestCode === 0 ? 0 : 1) : 1,
      seconds: (Date.now() - t) / 1000,
      failures: vitest ? vitestFailures(vitest, root) : [],
    });

    const built = await check("production build (npm run build)", bin("tsx"), ["scripts/build.ts"]);
    if (built) {
      console.log("\n[test] ── the built processes (vitest) ──");
      t = Date.now();
      const builtCode = await run(
        bin("vitest"),
        [
          "run",
          "--config",
          "vitest.built.config.ts",
          "--reporter=default",
          "--reporter=json",
          "--outputFile.json=test-results/vitest-built.json",
        ],
        testEnv,
      );
      const report = readJson<{ numPassedTests: number; numFailedTests: number }>(
        "test-results/vitest-built.json",
      );
      stages.push({
        name: "built processes",
        passed: report?.numPassedTests ?? 0,
        failed: report ? Math.max(report.numFailedTests, builtCode === 0 ? 0 : 1) : 1,
        seconds: (Date.now() - t) / 1000,
        failures: report ? vitestFailures(report, root) : [],
      });
    }
    console.log("\n[test] ── browser tests (Playwright, Chromium) ──");
    t = Date.now();
    if (!built) {
      stages.push({ name: "playwright (skipped: no build)", passed: 0, failed: 1, seconds: 0 });
    } else {
      ensureChromium((line) => console.log(`[test] ${line}`));
      const pwCode = await run(bin("playwright"), ["test"], testEnv);
      const pw = readJson<{ stats: { expected: number; unexpected: number; flaky: number } }>(
        "test-results/playwright.json",
      );
      stages.push({
        name: "playwright",
        passed: (pw?.stats.expected ?? 0) + (pw?.stats.flaky ?? 0),
        failed: pw ? Math.max(pw.stats.unexpected, pwCode === 0 ? 0 : 1) : 1,
        seconds: (Date.now() - t) / 1000,
        failures: pw ? playwrightFailures(pw) : [],
      });
    }
  } finally {
    if (startedBroker) await infraDown(plan);
  }
  const passed = stages.reduce((n, s) => n + s.passed, 0);
  const failed = stages.reduce((n, s) => n + s.failed, 0);
  console.log("\n[test] ── summary ──");
  for (const s of stages) {
    console.log(
      `[test] ${s.failed ? "✗" : "✓"} ${s.name}: ${s.passed} passed, ${s.failed} failed (${s.seconds.toFixed(1)} s)`,
    );
    for (const failure of s.failures ?? []) console.log(`[test]     ✗ ${failure}`);
  }
  console.log(`[test] whole suite in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`total: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[test] cannot run the suite: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
