// Fault switches for drills, changed at run time through Redis (the dashboard's fault panel
// sets them): any service that obeys them keeps a local mirror of its faults (error rate,
// latency, slow calls, a consumer's pause), re-read on a pub/sub announcement and every few
// seconds as a safety net. A "crash" order makes the service exit at once, as a crash would
// (its supervisor restarts it). The demo fleet is one user of this library.
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { type Faults, noFaults } from "./faults.ts";

/** A service's fault settings as Redis holds them (every value a string). */
export const FaultsSchema = z.object({
  errorRate: z.coerce.number().min(0).max(1).optional(),
  latencyMs: z.coerce.number().int().min(0).max(60_000).optional(),
  slowRate: z.coerce.number().min(0).max(1).optional(),
  slowMs: z.coerce.number().int().min(0).max(600_000).optional(),
  crash: z.string().max(100).optional(),
  paused: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
});
export type FaultSettings = z.infer<typeof FaultsSchema>;

export const faultsKey = (namespace: string, service: string) =>
  `${namespace}sagascope:fleet:faults:{${service}}`;
export const faultsChannel = (namespace: string) => `${namespace}sagascope:fleet:faults`;

/** Writes a service's faults (a partial change) and announces it. */
export async function setFaults(
  redis: Redis,
  namespace: string,
  service: string,
  change: Partial<Omit<FaultSettings, "crash">> & { crash?: boolean; clear?: boolean },
): Promise<void> {
  const key = faultsKey(namespace, service);
  const { crash, clear, ...values } = change;
  const multi = redis.multi();
  if (clear) multi.del(key);
  const fields = Object.entries(values).filter(([, v]) => v !== undefined);
  if (fields.length > 0) multi.hset(key, Object.fromEntries(fields.map(([k, v]) => [k, String(v)])));
  if (crash) multi.hset(key, "crash", `${Date.now()}`);
  multi.publish(faultsChannel(namespace), service);
  await multi.exec();
}

/** How often a service re-reads its faults when no announcement came (a safety net for pub/sub). */
export const DEFAULT_FAULT_REREAD_MS = 5000;

export interface FaultControl {
  faults(): Faults;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createFaultControl(deps: {
  redis: Redis;
  /** A second connection: a subscribed Redis connection can do nothing else. */
  subscriber: Redis;
  namespace: string;
  service: string;
  log: Logger;
  onCrash: () => void;
  /** Faults while Redis says nothing else (e.g. from the service's configuration). */
  defaults?: Faults;
  rereadMs?: number;
}): FaultControl {
  const defaults = deps.defaults ?? noFaults();
  let current: Faults = defaults;
  let seenCrash: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const key = faultsKey(deps.namespace, deps.service);

  async function reread(first = false) {
    const parsed = FaultsSchema.safeParse(await deps.redis.hgetall(key));
    if (!parsed.success) {
      deps.log.warn("ignoring invalid fault settings", { key, problem: parsed.error.issues[0]?.message });
      return;
    }
    const { crash, ...set } = parsed.data;
    const faults: Faults = {
      ...defaults,
      ...Object.fromEntries(Object.entries(set).filter(([, v]) => v !== undefined)),
    };
    if (JSON.stringify(faults) !== JSON.stringify(current)) deps.log.info("faults changed", { ...faults });
    current = faults;
    // A crash order older than this process (seen at start) is history, not an order.
    if (crash && crash !== seenCrash) {
      seenCrash = crash;
      if (!first) {
        deps.log.warn("injected crash: exiting now");
        deps.onCrash();
      }
    }
  }

  const onAnnouncement = (_channel: string, service: string) => {
    if (service === deps.service)
      void reread().catch((error) => deps.log.warn("fault re-read failed", { error }));
  };

  return {
    faults: () => current,
    async start() {
      await reread(true);
      deps.subscriber.on("message", onAnnouncement);
      await deps.subscriber.subscribe(faultsChannel(deps.namespace));
      timer = setInterval(() => void reread().catch(() => {}), deps.rereadMs ?? DEFAULT_FAULT_REREAD_MS);
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      deps.subscriber.off("message", onAnnouncement);
      await deps.subscriber.unsubscribe().catch(() => {});
    },
  };
}
