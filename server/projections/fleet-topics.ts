// The change topics the projector reads: one per service the fleet's manifest lists under
// projectedServices (docs/fleet-manifest.md), and the projector's consumer group names.
import type { FleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import { changeTopic } from "./change-events.ts";

export const projectedTopics = (prefix: string, fleet: Pick<FleetManifest, "projectedServices">) =>
  fleet.projectedServices.map((s) => changeTopic(prefix, s));

export const projectorGroup = (prefix: string, generation: number) =>
  `${prefix}sagascope.projector.g${generation}`;
