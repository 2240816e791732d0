// One checkout service as a choreography participant: its schema, its tables and its reactions.
import type { Kafka, Producer } from "kafkajs";
import type { Pool } from "../../db/pool.ts";
import { serializedDdl } from "../../db/serialized-ddl.ts";
import { topics } from "../../events/index.ts";
import type { Logger } from "../../log.ts";
import { createParticipant, type Participant } from "../../sagas/choreography/participant.ts";
import { type ChangeSink, changeSink } from "./changes.ts";
import {
  type CheckoutEvents,
  type CheckoutService,
  checkoutEvents,
  checkoutSaga,
  checkoutTopic,
} from "./checkout-saga.ts";
import type { Guard } from "./guard.ts";
import { INVENTORY_SCHEMA, inventoryReactions, inventoryTables } from "./inventory-service.ts";
import { ORDER_SCHEMA, orderReactions, orderTables } from "./order-service.ts";
import { PAYMENT_SCHEMA, paymentReactions, paymentTables } from "./payment-service.ts";
import { SHIPPING_SCHEMA, shippingReactions, shippingTables } from "./shipping-service.ts";

const SERVICES = {
  order: { schema: ORDER_SCHEMA, tables: orderTables, reactions: orderReactions },
  payment: { schema: PAYMENT_SCHEMA, tables: paymentTables, reactions: paymentReactions },
  inventory: { schema: INVENTORY_SCHEMA, tables: inventoryTables, reactions: inventoryReactions },
  shipping: { schema: SHIPPING_SCHEMA, tables: shippingTables, reactions: shippingReactions },
} as const;

/** The schema of the fleet's database a checkout service keeps its tables in. */
export const checkoutSchema = (service: CheckoutService): string => SERVICES[service].schema;

export interface CheckoutParticipant {
  participant: Participant<CheckoutEvents>;
  /** Publishes a change of this service's own rows (on its change topic, in the caller's transaction). */
  changes: ChangeSink;
  /** Creates the service's schema and tables (and its opening data) if they are missing. */
  init(): Promise<void>;
}

export function createCheckoutParticipant(
  service: CheckoutService,
  deps: {
    pool: Pool;
    databaseUrl: string;
    kafka: Kafka;
    producer: Producer;
    topicPrefix: string;
    guard: Guard;
    log: Logger;
  },
): CheckoutParticipant {
  const spec = SERVICES[service];
  const changes = changeSink(deps.topicPrefix, service);
  const contract = topics(deps.topicPrefix);
  const participant = createParticipant<CheckoutEvents>({
    service,
    source: `/fleet/checkout/${service}`,
    choreography: checkoutSaga,
    schemas: checkoutEvents,
    reactions: spec.reactions(deps.guard, changes),
    pool: deps.pool,
    databaseUrl: deps.databaseUrl,
    schema: spec.schema,
    kafka: deps.kafka,
    producer: deps.producer,
    groupId: `${deps.topicPrefix}sagascope.fleet.checkout.${service}`,
    topics: { ...contract, domain: checkoutTopic(deps.topicPrefix) },
    owner: service === "order",
    retry: { attempts: 4, backoffMs: 50 },
    poisonAttempts: 3,
    log: deps.log,
  });
  return {
    participant,
    changes,
    init: () =>
      serializedDdl(deps.pool, spec.schema, [`CREATE SCHEMA IF NOT EXISTS ${spec.schema}`, ...spec.tables]),
  };
}
