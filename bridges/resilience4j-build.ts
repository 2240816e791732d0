// Builds the Resilience4j bridge with Maven (its dependencies from Maven Central, once), for
// the tests that run it: compiled classes and every runtime jar, as a Java classpath. Skipped
// when the classes are newer than every source and the pom.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const PROJECT = path.resolve("bridges/resilience4j");
const CLASSES = path.join(PROJECT, "target/classes");
const DEPS = path.join(PROJECT, "target/deps");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function upToDate(): boolean {
  if (!existsSync(CLASSES) || !existsSync(DEPS)) return false;
  const sources = Math.max(
    newestSource(path.join(PROJECT, "src")),
    statSync(path.join(PROJECT, "pom.xml")).mtimeMs,
  );
  return statSync(CLASSES).mtimeMs > sources && statSync(DEPS).mtimeMs > sources;
}

/** The bridge's classpath (classes and runtime jars), built first if needed. */
export function buildResilience4jBridge(say: (line: string) => void = () => {}): string {
  if (!upToDate()) {
    say("building the Resilience4j bridge with Maven (bridges/resilience4j)…");
    const started = Date.now();
    const mvn = spawnSync(
      "mvn",
      [
        "-B",
        "-q",
        "-f",
        path.join(PROJECT, "pom.xml"),
        "clean",
        "compile",
        "dependency:copy-dependencies",
        `-DoutputDirectory=${DEPS}`,
        "-DincludeScope=runtime",
      ],
      { encoding: "utf8", timeout: 600_000 },
    );
    if (mvn.error)
      throw new Error(`Maven could not run (${mvn.error.message}); it builds the Resilience4j bridge`);
    if (mvn.status !== 0)
      throw new Error(
        `Maven could not build the Resilience4j bridge (exit ${mvn.status}):\n${mvn.stdout}${mvn.stderr}`,
      );
    say(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return [CLASSES, path.join(DEPS, "*")].join(path.delimiter);
}
