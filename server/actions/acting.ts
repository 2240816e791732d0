// What an operator action is given, whoever asks for it (the API, a test): who acts, and the
// store, Kafka, Redis, the deployment's names and limits, and what the fleet says of itself.
// Each action is one function of these and its validated input, and goes through
// performAction (permission, idempotency, audit); the API's routers only parse and call.

import type { Redis } from "ioredis";
import type { Producer } from "kafkajs";
import type { Actor } from "../../browser-safe/roles.ts";
import type { BreakerStore } from "../breakers/index.ts";
import type { Pool } from "../db/pool.ts";
import type { FleetManifest } from "../fleet-manifest/fleet-manifest.ts";

export interface Acting {
  pool: Pool;
  actor: Actor;
  /** A connected producer, for control commands and breaker events. */
  producer: () => Promise<Producer>;
  topicPrefix: string;
  mode: "demo" | "production";
  /** The most dead letters one bulk replay or discard may touch. */
  bulkCap: number;
  redis: Redis;
  breakerStore: BreakerStore;
  fleet: FleetManifest;
}
