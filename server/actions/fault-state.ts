// The fault settings as the services themselves read them (one Redis hash per
// service), for the fault panel to show what is in force before anyone changes it.
import type { Redis } from "ioredis";
import { FaultsSchema, faultsKey } from "../fault-switches/fault-control.ts";
import { redisFailure } from "../source-failure.ts";

export interface ServiceFaultState {
  service: string;
  /** null: nothing injected, so the service runs with its own configuration. */
  errorRate: number | null;
  latencyMs: number | null;
  slowRate: number | null;
  slowMs: number | null;
  /** When the last crash was ordered (the service exits once, then the order is history). */
  crashOrderedAt: Date | null;
  /** The projector's pause switch. */
  paused: boolean | null;
  /** The hash holds something the service ignores (written by hand, say). */
  problem: string | null;
}

/** The settings in force for each of `services` (as the fault panel offers them). */
export async function readFaultState(
  redis: Redis,
  namespace: string,
  services: readonly string[],
): Promise<ServiceFaultState[]> {
  let replies: [Error | null, unknown][] | null;
  try {
    const pipeline = redis.pipeline();
    for (const service of services) pipeline.hgetall(faultsKey(namespace, service));
    replies = await pipeline.exec();
  } catch (error) {
    throw redisFailure("the fault settings", error);
  }
  return services.map((service, i) => {
    const [error, hash] = replies?.[i] ?? [new Error("Redis gave no answer"), null];
    if (error) throw redisFailure("the fault settings", error);
    const parsed = FaultsSchema.safeParse(hash);
    const s = parsed.success ? parsed.data : {};
    const crashMs = Number(s.crash);
    return {
      service,
      errorRate: s.errorRate ?? null,
      latencyMs: s.latencyMs ?? null,
      slowRate: s.slowRate ?? null,
      slowMs: s.slowMs ?? null,
      crashOrderedAt: s.crash && Number.isFinite(crashMs) ? new Date(crashMs) : null,
      paused: s.paused ?? null,
      problem: parsed.success
        ? null
        : `ignored by the service: ${parsed.error.issues.map((x) => `${x.path.join(".")} ${x.message}`).join("; ")}`,
    };
  });
}
