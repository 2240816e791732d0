// The fault panel: error rate, latency and crash per service that obeys fault switches (as
// the fleet's manifest declares), and the projector's pause switch; written to Redis where
// each service follows it within a second.
import type { Redis } from "ioredis";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { setFaults } from "../fault-switches/fault-control.ts";
import type { FleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import type { Acting } from "./acting.ts";
import { auditRefusal } from "./audit-refusal.ts";
import { readFaultState } from "./fault-state.ts";
import { type ActionStatus, type Outcome, performAction } from "./perform-action.ts";

/** The projector's pause switch: Sagascope's own, offered whatever the fleet declares. */
export const PROJECTOR_SWITCH = "projector";

/** What the fault panel offers: the services the fleet's manifest declares, and the projector. */
export const faultServices = (fleet: FleetManifest): string[] => [
  ...fleet.faultSwitches.filter((s) => s !== PROJECTOR_SWITCH),
  PROJECTOR_SWITCH,
];

export const FaultsInputSchema = z.object({
  service: z.string().min(1).max(100),
  errorRate: z
    .number()
    .min(0, "an error rate of 0% at least")
    .max(1, "an error rate of 100% at most")
    .optional(),
  latencyMs: z.number().int().min(0).max(60_000, "at most 60 000 ms of latency").optional(),
  crash: z.boolean().optional(),
  paused: z.boolean().optional(),
  clear: z.boolean().optional(),
  idempotencyKey: z.string().min(8).max(200),
});
export type FaultsInput = z.infer<typeof FaultsInputSchema>;

export async function injectFaults(redis: Redis, topicPrefix: string, input: FaultsInput): Promise<Outcome> {
  await setFaults(redis, topicPrefix, input.service, {
    errorRate: input.errorRate,
    latencyMs: input.latencyMs,
    crash: input.crash,
    paused: input.paused,
    clear: input.clear,
  });
  const what = [
    input.clear && "faults cleared",
    input.errorRate !== undefined && `error rate ${Math.round(input.errorRate * 100)}%`,
    input.latencyMs !== undefined && `latency ${input.latencyMs} ms`,
    input.crash && "crash ordered",
    input.paused !== undefined && (input.paused ? "paused" : "resumed"),
  ].filter(Boolean);
  return { phase: "done", message: `${input.service}: ${what.join(", ") || "unchanged"}` };
}

/** Changes a service's fault switches (demo mode, a service the fleet's manifest declares). */
export async function changeFaults(a: Acting, input: FaultsInput): Promise<ActionStatus> {
  const refuse = async (code: "FORBIDDEN" | "BAD_REQUEST", why: string): Promise<never> => {
    await auditRefusal(a.pool, {
      actor: a.actor.email,
      actorRole: a.actor.role,
      action: "fleet.faults",
      target: input.service,
      why,
    });
    throw new AppError(code, why);
  };
  if (a.mode !== "demo") await refuse("FORBIDDEN", "the fault panel exists in demo mode only");
  const offered = faultServices(a.fleet);
  if (!offered.includes(input.service))
    await refuse(
      "BAD_REQUEST",
      `${input.service} has no fault switches: the fleet's manifest declares ${offered.join(", ")}`,
    );
  return performAction(
    a.pool,
    a.actor,
    {
      action: "fleet.faults",
      permission: "fleet.faults",
      target: input.service,
      params: { ...input, idempotencyKey: undefined },
      idempotencyKey: input.idempotencyKey,
    },
    () => injectFaults(a.redis, a.topicPrefix, input),
  );
}

/** The fault settings in force for each service the panel offers (none outside demo mode, or without actions). */
export async function faultsInForce(a: Pick<Acting, "mode" | "redis" | "topicPrefix" | "fleet"> | undefined) {
  return a?.mode === "demo"
    ? {
        mode: "demo" as const,
        services: await readFaultState(a.redis, a.topicPrefix, faultServices(a.fleet)),
      }
    : { mode: "production" as const, services: [] };
}
