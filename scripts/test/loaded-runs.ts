// `npm run test:loaded`: the suite run from fresh clones while a CPU hog keeps every core
// busy, several times in a row, to prove it does not need a quiet machine. Prints each
// run's wall time and total line, the tests that dominate it, and any test that passed
// only on a retry (there should be none: retries are off).
//
//   npm run test:loaded                      3 runs of `bash .ci/run` from fresh clones of HEAD
//   npm run test:loaded -- --runs 1          one run
//   npm run test:loaded -- -- npx playwright test e2e/saga-actions.spec.ts
//                                            any command, in this checkout, under the same load
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { startCpuHog } from "./cpu-hog.ts";
import { ensureDebianTool, STRESS_NG } from "./debian-tools.ts";

const Flags = z.object({
  runs: z.coerce.number().int().min(1).max(10).default(3),
  keep: z.boolean().default(false),
});

const { values, positionals } = parseArgs({
  options: { runs: { type: "string" }, keep: { type: "boolean" } },
  allowPositionals: true,
});
const flags = Flags.parse(values);
const say = (line: string) => console.log(`[loaded] ${line}`);

interface RunResult {
  run: number;
  seconds: number;
  exitCode: number;
  total: string;
  slowest: { name: string; seconds: number }[];
  retried: string[];
}

/** The run in progress, so that Ctrl-C stops it (and what it started) before leaving. */
let current: ChildProcess | undefined;

function runLogged(command: string, args: string[], cwd: string, log: string): Promise<number> {
  return new Promise((resolve) => {
    const out = createWriteStream(log);
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    current = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on("data", (chunk: Buffer) => {
        out.write(chunk);
        process.stdout.write(chunk);
      });
    }
    child.on("exit", (code) => {
      current = undefined;
      out.end(() => resolve(code ?? 1));
    });
  });
}

/** The slowest tests of a run and the ones that needed a retry, from the runners' JSON reports. */
function readReports(dir: string): Pick<RunResult, "slowest" | "retried"> {
  const tests: { name: string; seconds: number }[] = [];
  const retried: string[] = [];
  const vitestFile = path.join(dir, "test-results/vitest.json");
  if (existsSync(vitestFile)) {
    const report = JSON.parse(readFileSync(vitestFile, "utf8")) as {
      testResults: { name: string; assertionResults: { fullName: string; duration?: number }[] }[];
    };
    for (const file of report.testResults)
      for (const t of file.assertionResults)
        tests.push({
          name: `vitest ${path.relative(dir, file.name)} › ${t.fullName}`,
          seconds: (t.duration ?? 0) / 1000,
        });
  }
  const pwFile = path.join(dir, "test-results/playwright.json");
  if (existsSync(pwFile)) {
    type Suite = {
      title: string;
      specs?: { title: string; tests: { results: { duration: number; retry: number }[] }[] }[];
      suites?: Suite[];
    };
    const walk = (suite: Suite) => {
      for (const spec of suite.specs ?? [])
        for (const t of spec.tests) {
          const name = `playwright ${suite.title} › ${spec.title}`;
          tests.push({ name, seconds: t.results.reduce((s, r) => s + r.duration, 0) / 1000 });
          if (t.results.length > 1) retried.push(name);
        }
      for (const child of suite.suites ?? []) walk(child);
    };
    for (const suite of (JSON.parse(readFileSync(pwFile, "utf8")) as { suites: Suite[] }).suites) walk(suite);
  }
  return { slowest: tests.sort((a, b) => b.seconds - a.seconds).slice(0, 10), retried };
}

async function main(): Promise<number> {
  const repo = path.resolve(import.meta.dirname, "../..");
  try {
    ensureDebianTool(STRESS_NG, say);
  } catch (error) {
    say(`${(error as Error).message}; a Node busy loop per core keeps the cores busy instead`);
  }
  const hog = startCpuHog();
  say(`load: ${hog.description}`);
  const stopOnSignal = (signal: NodeJS.Signals) => {
    hog.stop();
    say(`${signal}: load stopped; stopping the run in progress`);
    const run = current;
    if (!run?.pid) process.exit(130);
    // The suite stops what it started (its broker) on SIGINT, as on Ctrl-C in a terminal.
    process.kill(-run.pid, "SIGINT");
    run.once("exit", () => process.exit(130));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  const results: RunResult[] = [];
  try {
    if (positionals.length > 0) {
      const [command, ...args] = positionals as [string, ...string[]];
      const started = Date.now();
      const code = await runLogged(command, args, repo, path.join(tmpdir(), "sagascope-loaded-command.log"));
      say(
        `${positionals.join(" ")}: exit ${code} in ${((Date.now() - started) / 1000).toFixed(0)} s under load`,
      );
      return code;
    }
    const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repo,
      encoding: "utf8",
    }).stdout.trim();
    const root = mkdtempSync(path.join(tmpdir(), "sagascope-loaded-"));
    for (let run = 1; run <= flags.runs; run++) {
      const dir = path.join(root, `run-${run}`);
      say(`run ${run}/${flags.runs}: fresh clone of ${head} in ${dir}`);
      const clone = spawnSync("git", ["clone", "--quiet", repo, dir], { stdio: "inherit" });
      if (clone.status !== 0) throw new Error("git clone failed");
      mkdirSync(path.join(dir, "test-results"), { recursive: true });
      const log = path.join(root, `run-${run}.log`);
      const started = Date.now();
      const exitCode = await runLogged("bash", [".ci/run"], dir, log);
      const seconds = (Date.now() - started) / 1000;
      const total = readFileSync(log, "utf8").match(/^total: .*$/m)?.[0] ?? "no total line";
      results.push({ run, seconds, exitCode, total, ...readReports(dir) });
      say(`run ${run}: ${total}, exit ${exitCode}, ${seconds.toFixed(0)} s (log: ${log})`);
      // Kafka's data and the dependencies of a clone are a few hundred MB each run.
      if (!flags.keep) rmSync(path.join(dir, "node_modules"), { recursive: true, force: true });
    }
  } finally {
    hog.stop();
  }
  say("── summary ──");
  for (const r of results) {
    say(`run ${r.run}: ${r.total}, exit ${r.exitCode}, wall ${r.seconds.toFixed(0)} s`);
    say(`  retried: ${r.retried.length ? r.retried.join("; ") : "none"}`);
    say("  slowest tests:");
    for (const t of r.slowest) say(`    ${t.seconds.toFixed(1).padStart(6)} s  ${t.name}`);
  }
  return results.every((r) => r.exitCode === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[loaded] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
