// The change topics the fleet's projection reads: one per service that owns projected data.
import { changeTopic } from "./change-events.ts";

export const PROJECTED_SERVICES = ["order", "payment", "inventory", "shipping", "bank-a", "bank-b"] as const;

export const projectedTopics = (prefix: string) => PROJECTED_SERVICES.map((s) => changeTopic(prefix, s));

export const projectorGroup = (prefix: string, generation: number) =>
  `${prefix}sagascope.projector.g${generation}`;
