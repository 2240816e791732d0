// The suite's summary names each failed test: the real runners are run on a small project of
// one passing and one failing test (and, for vitest, one that times out), and their JSON reports
// read back.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstLine, playwrightFailures, vitestFailures } from "./failures.ts";

// Inside the repo (so `@playwright/test` resolves), in an ignored folder, as plain JavaScript (so
// the build's type check and lint never see it); removed afterwards.
const dir = path.resolve(".sagascope/tmp/failures-fixture");

beforeAll(() => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "sum.test.mjs"),
    [
      'test("adds", () => { expect(1 + 1).toBe(2); });',
      'test("carries the ten", () => { expect(9 + 1, "the sum").toBe(11); });',
      'test("waits for ever", () => new Promise(() => {}), 200);',
    ].join("\n"),
  );
  writeFileSync(
    path.join(dir, "vitest.config.mjs"),
    'export default { test: { globals: true, include: ["*.test.mjs"] } };\n',
  );
  writeFileSync(
    path.join(dir, "sum.spec.mjs"),
    [
      'import { expect, test } from "@playwright/test";',
      'test("adds", () => { expect(1 + 1).toBe(2); });',
      'test("carries the ten", () => { expect(9 + 1).toBe(11); });',
    ].join("\n"),
  );
  writeFileSync(
    path.join(dir, "playwright.config.mjs"),
    `export default { testDir: ".", outputDir: "./output", testMatch: "*.spec.mjs", workers: 1, retries: 0, reporter: [["json", { outputFile: "playwright.json" }]] };\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the summary's failed tests", () => {
  it("names the failed vitest test, its file and its reason", () => {
    const run = spawnSync(
      "node_modules/.bin/vitest",
      [
        "run",
        "--root",
        dir,
        "--config",
        path.join(dir, "vitest.config.mjs"),
        "--reporter=json",
        "--outputFile.json=vitest.json",
      ],
      { encoding: "utf8", env: { ...process.env, CI: "true" }, timeout: 100_000 },
    );
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(path.join(dir, "vitest.json"), "utf8"));
    expect(vitestFailures(report, dir)).toEqual([
      "sum.test.mjs › carries the ten: AssertionError: the sum: expected 10 to be 11 // Object.is equality",
      "sum.test.mjs › waits for ever: timed out (its test or hook timeout)",
    ]);
  }, 120_000);

  it("names the failed Playwright test, its file and line and its reason", () => {
    // Playwright empties its output folder first, by default the project's test-results/,
    // where tests running beside this one keep their files: the fixture's config names its own.
    mkdirSync("test-results", { recursive: true });
    const beside = path.resolve("test-results", `beside-${process.pid}.txt`);
    writeFileSync(beside, "a file another test keeps here");
    const run = spawnSync(
      "node_modules/.bin/playwright",
      ["test", "--config", path.join(dir, "playwright.config.mjs")],
      {
        encoding: "utf8",
        env: { ...process.env, CI: "true" },
        timeout: 100_000,
      },
    );
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(readFileSync(path.join(dir, "playwright.json"), "utf8"));
    expect(playwrightFailures(report)).toEqual([
      "sum.spec.mjs:3 › carries the ten: Error: expect(received).toBe(expected) // Object.is equality",
    ]);
    expect(readFileSync(beside, "utf8")).toBe("a file another test keeps here");
    rmSync(beside);
  }, 120_000);

  it("says so when a report is not the runner's", () => {
    expect(vitestFailures({ testResults: "no" }, dir)).toEqual(["(the vitest report could not be read)"]);
    expect(playwrightFailures({})).toEqual(["(the Playwright report could not be read)"]);
  });

  it("keeps a reason to its first line, without colours, and cuts a long one", () => {
    expect(firstLine("\n\u001b[31mboom\u001b[39m\n  at x.ts:1")).toBe("boom");
    expect(firstLine(undefined)).toBe("(no message)");
    expect(firstLine("x".repeat(400))).toBe(`${"x".repeat(300)}…`);
  });
});
