// Each long-running process's observability port (127.0.0.1 unless configured otherwise):
// /metrics in the Prometheus text format, /healthz (the process is alive) and /readyz (its
// dependencies answer), as Prometheus, load balancers and Kubernetes probes expect.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log.ts";
import { type ReadinessCheck, runChecks } from "./readiness.ts";

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: {
  registry: Registry;
  role: string;
  host: string;
  port: number;
  checks: () => ReadinessCheck[];
  log: Logger;
}): Promise<MetricsServer> {
  const started = Date.now();
  const json = (status: number, body: unknown) => ({
    status,
    type: "application/json",
    body: `${JSON.stringify(body)}\n`,
  });
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const answer = async () => {
      if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "GET only" });
      if (path === "/metrics")
        return { status: 200, type: options.registry.contentType, body: await options.registry.metrics() };
      if (path === "/healthz")
        return json(200, {
          status: "alive",
          role: options.role,
          uptimeSeconds: Math.round((Date.now() - started) / 1000),
        });
      if (path === "/readyz") {
        const { ready, checks } = await runChecks(options.checks());
        return json(ready ? 200 : 503, { status: ready ? "ready" : "not ready", role: options.role, checks });
      }
      return json(404, { error: "not found: /metrics, /healthz and /readyz are served here" });
    };
    answer()
      .then(({ status, type, body }) => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
      })
      .catch((error: unknown) => {
        options.log.warn("metrics request failed", { path, error: String(error) });
        res.writeHead(500, { "content-type": "application/json" });
        res.end(`${JSON.stringify({ error: String(error) })}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info("metrics and health", { url: `http://${options.host}:${port}/metrics` });
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
