// The edge of every long-running process: start it, stop it once on SIGINT/SIGTERM, and
// exit non-zero with one clear line when it cannot start. With a metrics port, it also
// serves /metrics, /healthz and /readyz there (server/metrics/metrics-server.ts).
import type { Logger } from "./log.ts";
import { type MetricsServer, startMetricsServer } from "./metrics/metrics-server.ts";
import type { ReadinessCheck } from "./metrics/readiness.ts";
import { processRegistry } from "./metrics/registry.ts";

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What /readyz asks: each dependency the process needs. */
  readiness?: ReadinessCheck[];
}

/** Where the observability port listens: `SAGASCOPE_METRICS_HOST`/`_PORT`; no port, no server. */
export interface Observe {
  host: string;
  port?: number | undefined;
}

/** The observability port as the process's configuration says. */
export const observeFrom = (config: {
  SAGASCOPE_METRICS_HOST: string;
  SAGASCOPE_METRICS_PORT?: number | undefined;
}): Observe => ({
  host: config.SAGASCOPE_METRICS_HOST,
  port: config.SAGASCOPE_METRICS_PORT,
});

export async function runProcess(
  name: string,
  log: Logger,
  create: () => Promise<Service> | Service,
  observe?: Observe,
): Promise<void> {
  let service: Service;
  let metrics: MetricsServer | undefined;
  try {
    // Registered before the service is created, so its modules find the registry labelled.
    const registry = processRegistry(name);
    service = await create();
    if (observe?.port !== undefined) {
      const checks = service.readiness ?? [];
      metrics = await startMetricsServer({
        registry,
        role: name,
        host: observe.host,
        port: observe.port,
        checks: () => checks,
        log,
      });
    }
    await service.start();
  } catch (error) {
    console.error(`${name} cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping on ${signal}`);
    const timer = setTimeout(() => {
      log.error("did not stop within 15 s; exiting");
      process.exit(1);
    }, 15_000);
    try {
      await service.stop();
      await metrics?.close();
      clearTimeout(timer);
      process.exit(0);
    } catch (error) {
      log.error("stop failed", { error });
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
