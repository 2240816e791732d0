// One Prometheus registry per process: the default Node.js process metrics (CPU, memory,
// event loop lag, GC, handles) with a `role` label saying which Sagascope process it is,
// and the metrics the process's own modules register on it.
import { collectDefaultMetrics, Registry } from "prom-client";

const holder = globalThis as unknown as { sagascopeRegistry?: Registry };

/** The process's registry (one per process, also across the web app's hot reloads). */
export function processRegistry(role: string): Registry {
  if (!holder.sagascopeRegistry) {
    const registry = new Registry();
    registry.setDefaultLabels({ role });
    collectDefaultMetrics({ register: registry });
    holder.sagascopeRegistry = registry;
  }
  return holder.sagascopeRegistry;
}
