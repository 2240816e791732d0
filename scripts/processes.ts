// Child processes for the demo and the e2e suite: started with a name, their output
// prefixed line by line (or written straight to a file), stopped by pid (the whole process
// group) when we are done.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync } from "node:fs";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";

/**
 * Where a child's output goes: prefixed to ours, kept back (shown if it crashes), or appended
 * to a file by the child itself. A file child owns its descriptor and never writes into a
 * pipe of ours, so it outlives the process that started it: a Playwright worker replaced
 * after a failure must not take the fleet process its teardown restarted down with it.
 */
export type ChildOutput = "prefix" | "quiet" | { file: string };

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** Set by stopChild, so that the exit it causes is not reported as a crash. */
  stopping: boolean;
}

const tsx = "node_modules/.bin/tsx";
const next = "node_modules/.bin/next";

export function startChild(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  output: ChildOutput = "prefix",
): Child {
  const file = typeof output === "object" ? output.file : undefined;
  // The child's own lines carry no name: this line says whose lines follow.
  if (file) appendFileSync(file, `[${name}] starting: ${command} ${args.join(" ")}\n`);
  const fd = file ? openSync(file, "a") : undefined;
  const child = spawn(command, args, {
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...env },
    stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd],
    // Its own process group, so that stopping it also stops what it started.
    detached: true,
  });
  if (fd !== undefined) closeSync(fd);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      if (output === "prefix") console.log(`[${name}] ${line}`);
      else {
        lines.push(line);
        if (lines.length > 200) lines.shift();
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const handle: Child = { name, process: child, exited, stopping: false };
  void exited.then((code) => {
    if (output === "prefix" || handle.stopping || code === 0 || code === null) return;
    const where = file ? `its output is in ${file}` : `its last lines:\n${lines.slice(-30).join("\n")}`;
    console.error(`[${name}] exited with ${code}; ${where}`);
  });
  return handle;
}

export const startTsx = (name: string, file: string, env: Record<string, string>, output?: ChildOutput) =>
  startChild(name, tsx, [file], env, output);

/** A built process (`npm run build`): `sagascope <role>`. */
export const startBuilt = (name: string, role: string, env: Record<string, string>, output?: ChildOutput) =>
  startChild(name, "node", ["bin/sagascope.mjs", role], env, output);

export const startWeb = (port: number, env: Record<string, string>, output?: ChildOutput) =>
  startChild("web", next, ["start", "--hostname", "127.0.0.1", "--port", String(port)], env, output);

/** SIGTERM to the child's process group, SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 15_000): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.stopping = true;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Resolves when `url` answers with a non-5xx status; rejects after `timeoutMs` or if `child` exits. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before ${url} answered`);
    try {
      const response = await fetch(url, { redirect: "manual" });
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/**
 * Resolves once `address` (host:port) takes a TCP connection: a gRPC server is serving. Rejects
 * after `timeoutMs` or if `child` exits first.
 */
export async function waitForTcp(address: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${child.name} exited before ${address} took a connection`);
    if (await accepts()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${address} took no connection within ${timeoutMs / 1000} s`);
}

/** A port nothing listens on now, on 127.0.0.1, for a child of its own. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
