// A real Prometheus for the tests, and its promtool: Debian's `prometheus` package, downloaded
// and unpacked under SAGASCOPE_HOME (never installed: no service starts, nothing of the system
// changes), once. `startPrometheus` runs one on 127.0.0.1 scraping given targets, with given
// rule files, in a data directory of its own, and stops it by pid.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sagascopeHome } from "../infra/infra.ts";

export interface PrometheusTools {
  prometheus: string;
  promtool: string;
}

export function prometheusTools(log: (line: string) => void = () => {}): PrometheusTools {
  const dir = path.join(sagascopeHome({ SAGASCOPE_HOME: process.env.SAGASCOPE_HOME }), "tools", "prometheus");
  const tools = {
    prometheus: path.join(dir, "usr/bin/prometheus"),
    promtool: path.join(dir, "usr/bin/promtool"),
  };
  if (existsSync(tools.prometheus) && existsSync(tools.promtool)) return tools;
  log("fetching Debian's prometheus package (prometheus and promtool, unpacked, not installed)…");
  const download = mkdtempSync(path.join(tmpdir(), "sagascope-prometheus-"));
  try {
    const fetch = () => spawnSync("apt-get", ["download", "prometheus"], { cwd: download, encoding: "utf8" });
    let got = fetch();
    if (got.status !== 0 && process.getuid?.() === 0) {
      spawnSync("apt-get", ["update"], { stdio: "ignore" });
      got = fetch();
    }
    const deb = readdirSync(download).find((f) => f.endsWith(".deb"));
    if (got.status !== 0 || !deb)
      throw new Error(`could not download Debian's prometheus package: ${got.stderr || got.error?.message}`);
    mkdirSync(dir, { recursive: true });
    const unpack = spawnSync("dpkg-deb", ["-x", path.join(download, deb), dir], { encoding: "utf8" });
    if (unpack.status !== 0) throw new Error(`could not unpack ${deb}: ${unpack.stderr}`);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  return tools;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query's result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(
  tools: PrometheusTools,
  options: { port: number; targets: Record<string, string>; ruleFiles?: string[]; scrapeIntervalS?: number },
): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(tmpdir(), "sagascope-prom-"));
  const interval = `${options.scrapeIntervalS ?? 1}s`;
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    ...(options.ruleFiles?.length
      ? ["rule_files:", ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]
      : []),
    "scrape_configs:",
    ...Object.entries(options.targets).flatMap(([job, target]) => [
      `  - job_name: ${JSON.stringify(job)}`,
      "    static_configs:",
      `      - targets: [${JSON.stringify(target)}]`,
    ]),
  ].join("\n");
  writeFileSync(path.join(dir, "prometheus.yml"), `${config}\n`);
  const url = `http://127.0.0.1:${options.port}`;
  const child: ChildProcess = spawn(
    tools.prometheus,
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stderr: string[] = [];
  child.stderr?.on("data", (c: Buffer) => stderr.push(c.toString()));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr.join("")}`);
    const ready = await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready in 60 s: ${stderr.join("")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: never[] } };
      if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data.result;
    },
    stop,
  };
}
