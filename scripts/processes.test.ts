// A child whose output goes to a file must outlive the process that started it: the e2e
// fleet's teardown restarts a fleet process from a Playwright worker, and a worker replaced
// after a failure used to take that process down with it (its pipe closed under it).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import { until } from "./test/infra.ts";

let dir: string | undefined;
let orphan: number | undefined;

afterEach(() => {
  if (orphan !== undefined)
    try {
      process.kill(-orphan, "SIGKILL");
    } catch {
      // already gone
    }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("a child writing to a file goes on writing after the process that started it has exited", async () => {
  dir = mkdtempSync(path.join(tmpdir(), "sagascope-processes-"));
  const log = path.join(dir, "fleet.log");
  // The child prints a numbered line every 50 ms; the starter exits as soon as it has started it.
  const ticker = 'let n = 0; setInterval(() => console.log("tick " + ++n), 50);';
  const starter = `
    import { startChild } from ${JSON.stringify(path.resolve("scripts/processes.ts"))};
    const child = startChild("ticker", process.execPath, ["-e", ${JSON.stringify(ticker)}], {}, { file: ${JSON.stringify(log)} });
    console.log(child.process.pid);
    child.process.unref();
    process.exit(0);`;
  const parent = spawn("node_modules/.bin/tsx", ["-e", starter], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  parent.stdout.on("data", (chunk) => {
    out += chunk;
  });
  await new Promise((resolve) => parent.on("exit", resolve));
  orphan = Number(out.trim());
  expect(orphan).toBeGreaterThan(0);
  const ticks = () => (existsSync(log) ? (readFileSync(log, "utf8").match(/^tick \d+$/gm) ?? []).length : 0);
  const atExit = ticks();
  await until("the orphaned child to write ten more lines", () => ticks() >= atExit + 10);
  expect(readFileSync(log, "utf8")).toMatch(/^\[ticker\] starting: /m);
  // Still alive: signal 0 throws for a process that has gone.
  expect(() => process.kill(orphan as number, 0)).not.toThrow();
});
