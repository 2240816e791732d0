// The demo fleet's own settings (its banks, orchestrators, checkout services and load), apart
// from Sagascope's: a fleet process reads the product's connection settings (server/env.ts:
// brokers, Redis, the topic prefix, observability) and these, and a product process never
// reads these.
import { z } from "zod";
import { type Env, env, hostPort, parseSettings, siblingDatabase } from "../env.ts";

const FleetEnvSchema = z.object({
  /** The demo fleet's own database (each bank in its own schema); defaults to DATABASE_URL's server. */
  FLEET_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .optional(),

  SAGASCOPE_DEMO_RATE: z.coerce.number().positive().max(1000).default(2),
  SAGASCOPE_DEMO_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0.15),
  /** Which demo bank this process is (server/fleet/bank/main.ts). */
  FLEET_BANK: z.enum(["bank-a", "bank-b"]).optional(),
  FLEET_BANK_A_ADDRESS: hostPort.default("127.0.0.1:30061"),
  FLEET_BANK_B_ADDRESS: hostPort.default("127.0.0.1:30062"),
  /** Share of a bank's calls that fail with an injected transient error. */
  FLEET_BANK_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  /** This orchestrator instance's name; instances of one fleet share their sagas. */
  FLEET_ORCHESTRATOR_ID: z
    .string()
    .regex(/^[\w.:@-]{1,100}$/)
    .optional(),
  /** How long a saga stays with an orchestrator that stopped answering before another takes it. */
  FLEET_ORCHESTRATOR_LEASE_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  /** Stop starting transfers after this many (0: never stop). */
  FLEET_TRANSFER_LIMIT: z.coerce.number().int().min(0).default(0),
  /** Extra latency of every call to a bank, in ms. */
  FLEET_BANK_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  FLEET_STEP_TIMEOUT_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
  FLEET_SCREENING_ADDRESS: hostPort.default("127.0.0.1:30063"),
  /** Bank B screens every credit with the screening service when this is on. */
  FLEET_BANK_B_SCREENING: z
    .enum(["on", "off"])
    .default("off")
    .transform((v) => v === "on"),
  /** How long bank B waits for a screening answer. */
  FLEET_SCREENING_DEADLINE_MS: z.coerce.number().int().min(10).max(600_000).default(2000),
  /** Through its breaker, bank B gives a screening this long before it books the credit unscreened. */
  FLEET_SCREENING_BUDGET_MS: z.coerce.number().int().min(10).max(600_000).default(300),
  /** Which checkout service this process is (server/fleet/checkout/main.ts). */
  FLEET_CHECKOUT_SERVICE: z.enum(["order", "payment", "inventory", "shipping"]).optional(),
  /** Share of a checkout service's local steps that fail with an injected transient error. */
  FLEET_CHECKOUT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  /** The order service stops placing orders after this many (0: never stop). */
  FLEET_CHECKOUT_LIMIT: z.coerce.number().int().min(0).default(0),
  /** Orders placed per second by the order service (0: none; it still reacts). */
  FLEET_CHECKOUT_RATE: z.coerce.number().min(0).max(1000).optional(),
});

export type FleetEnv = Env &
  Omit<z.infer<typeof FleetEnvSchema>, "FLEET_DATABASE_URL"> & { FLEET_DATABASE_URL: string };

export function parseFleetEnv(source: Record<string, string | undefined>, product: Env): FleetEnv {
  const { data } = parseSettings(FleetEnvSchema, source, "fleet configuration");
  return {
    ...product,
    ...data,
    FLEET_DATABASE_URL: data.FLEET_DATABASE_URL ?? siblingDatabase(product.DATABASE_URL, "_fleet"),
  };
}

let cached: FleetEnv | undefined;

/** A fleet process's settings: the product's connection settings and the fleet's own. */
export function fleetEnv(): FleetEnv {
  cached ??= parseFleetEnv(process.env, env());
  return cached;
}
