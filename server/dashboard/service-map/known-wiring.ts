// What the code's names and wiring, and the fleet's manifest, tell the service map that the
// stored events cannot: who reads which topic (a Kafka message names its producer, never its
// consumers), and which service a CloudEvents source stands for. What a topic carries is read
// from its name the way the Kafka page reads it (deployment-names.ts).
import { topics } from "../../events/topics.ts";
import type { FleetManifest } from "../../fleet-manifest/fleet-manifest.ts";
import { changeTopic } from "../../projections/change-events.ts";

export const INGESTER_ID = "sagascope:ingester";
export const PROJECTOR_ID = "sagascope:projector";

export interface KnownWiring {
  contract: ReturnType<typeof topics>;
  /** The ingester reads every contract topic (server/ingest/main.ts). */
  ingesterReads: ReadonlySet<string>;
  /** The projector reads one change topic per service the manifest says it projects: topic → service. */
  changeTopics: ReadonlyMap<string, string>;
  /** The topics the fleet's services share, as its manifest says (prefixed). */
  fleetTopics: { topic: string; publishers: ReadonlySet<string>; consumers: ReadonlySet<string> }[];
}

export function knownWiring(prefix: string, fleet: FleetManifest): KnownWiring {
  const contract = topics(prefix);
  return {
    contract,
    ingesterReads: new Set(Object.values(contract)),
    changeTopics: new Map(fleet.projectedServices.map((service) => [changeTopic(prefix, service), service])),
    fleetTopics: fleet.topics.map((t) => ({
      topic: `${prefix}${t.name}`,
      publishers: new Set(t.publishers),
      consumers: new Set(t.consumers),
    })),
  };
}

/** The topic as the page shows it: without this deployment's prefix. */
export const shortTopic = (topic: string, prefix: string) =>
  prefix && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;

/**
 * The service a CloudEvents source stands for: its last path segment ("/fleet/checkout/order"
 * → "order", "https://example.com/billing" → "billing"), which is how the fleet names its
 * sources after the service; a source without a path is taken whole.
 */
export function publisherName(source: string): string {
  const path = source.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "").replace(/[?#].*$/, "");
  const segments = path.split("/").filter(Boolean);
  return segments.at(-1) ?? source;
}
