// The Resilience4j example of docs/breakers.md, compiled as written with javac against the
// built bridge and run as a child JVM that answers one line per line it reads (a call, or
// "state"): shared by the bridge's vitest test and its browser test.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { buildResilience4jBridge } from "./resilience4j-build.ts";

export interface ExampleRun {
  /** The first line: "<pair> is OPEN" once its six calls are made. */
  first(): Promise<string>;
  /** Sends a line ("call", or "state") and returns the answer: "<STATE> <outcome> reached=<n>". */
  ask(line: string): Promise<string>;
  /** Closes its input (it reports its last window and exits), killed after 15 s. */
  stop(): Promise<void>;
}

/** Builds the bridge, compiles the documented example into `dir`; returns the classpath to run it. */
export function prepareResilience4jExample(dir: string, say?: (line: string) => void): string {
  const classpath = buildResilience4jBridge(say);
  const doc = readFileSync("docs/breakers.md", "utf8");
  const block = /<!-- example:resilience4j-bridge -->\s*```java\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/breakers.md lost its resilience4j-bridge example");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const source = path.join(dir, "PaymentsLedger.java");
  writeFileSync(source, block);
  const javac = spawnSync("javac", ["-cp", classpath, "-d", dir, source], { encoding: "utf8" });
  if (javac.status !== 0) throw new Error(`the documented example does not compile:\n${javac.stderr}`);
  return [dir, classpath].join(path.delimiter);
}

export function runResilience4jExample(
  classpath: string,
  env: { brokers: string[]; topic: string; controlTopic: string; callee: string },
): ExampleRun {
  const jvm: ChildProcessWithoutNullStreams = spawn("java", ["-cp", classpath, "PaymentsLedger"], {
    env: {
      ...process.env,
      KAFKA_BROKERS: env.brokers.join(","),
      BREAKER_TOPIC: env.topic,
      CONTROL_TOPIC: env.controlTopic,
      CALLEE: env.callee,
    },
  });
  const stderr: string[] = [];
  jvm.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines: string[] = [];
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  createInterface({ input: jvm.stdout }).on("line", (line) => {
    const w = waiting.shift();
    if (w) w.resolve(line);
    else lines.push(line);
  });
  const child = jvm;
  child.once("exit", (code) => {
    for (const w of waiting.splice(0))
      w.reject(new Error(`the example exited (${code}): ${stderr.join("")}`));
  });
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const queued = lines.shift();
      if (queued !== undefined) return resolve(queued);
      if (child.exitCode !== null) return reject(new Error(`the example exited: ${stderr.join("")}`));
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${what} in 60 s; stderr: ${stderr.join("")}`)),
        60_000,
      );
      waiting.push({
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  return {
    first: () => next("the start"),
    ask: (line: string) => {
      child.stdin.write(`${line}\n`);
      return next(line);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
