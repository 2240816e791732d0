// What the code's names and wiring tell the service map that the stored events cannot: who
// reads which topic (a Kafka message names its producer, never its consumers), and which
// service a CloudEvents source stands for. What a topic carries is read from its name the way
// the Kafka page reads it (deployment-names.ts).
import { topics } from "../../events/topics.ts";
import { CHECKOUT_SERVICES, checkoutTopic } from "../../fleet/checkout/checkout-saga.ts";
import { changeTopic } from "../../projections/change-events.ts";
import { PROJECTED_SERVICES } from "../../projections/fleet-topics.ts";

export const INGESTER_ID = "sagascope:ingester";
export const PROJECTOR_ID = "sagascope:projector";

export interface KnownWiring {
  contract: ReturnType<typeof topics>;
  /** The ingester reads every contract topic (server/ingest/main.ts). */
  ingesterReads: ReadonlySet<string>;
  /** The projector reads one change topic per service that owns projected data: topic → service. */
  changeTopics: ReadonlyMap<string, string>;
  /** The checkout's participants publish to and read from one topic (server/fleet/checkout). */
  checkout: { topic: string; services: ReadonlySet<string> };
}

export function knownWiring(prefix: string): KnownWiring {
  const contract = topics(prefix);
  return {
    contract,
    ingesterReads: new Set(Object.values(contract)),
    changeTopics: new Map(PROJECTED_SERVICES.map((service) => [changeTopic(prefix, service), service])),
    checkout: { topic: checkoutTopic(prefix), services: new Set(CHECKOUT_SERVICES) },
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
