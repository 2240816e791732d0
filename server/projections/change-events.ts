// Create/update/delete changes of a service's aggregates, as domain events on the service's
// own topic, keyed by aggregate id. Each carries the aggregate's whole new state and its
// version (one more per change), so a projector applies each change once and in order per
// aggregate, whatever it is handed twice or late: a version not above the one it holds is old news.
import type { Message } from "kafkajs";
import { z } from "zod";
import {
  type DomainEvent,
  decodeDomainEvent,
  domainEvent,
  encodeDomainEvent,
} from "../events/domain-event.ts";
import type { TraceContext } from "../events/index.ts";

export const ChangeSchema = z.object({
  aggregateType: z.string().min(1).max(100),
  aggregateId: z.string().min(1).max(200),
  op: z.enum(["created", "updated", "deleted"]),
  version: z.number().int().min(1).describe("1 for the first change, one more for each change after it"),
  occurredAt: z.iso.datetime({ offset: true }).describe("When the change was committed at its service"),
  state: z.record(z.string(), z.unknown()).describe("The aggregate's whole state after the change"),
});
export type Change = z.infer<typeof ChangeSchema>;

/** The aggregates of the demo fleet and the event type of each one's changes. */
export const CHANGE_TYPES = {
  order: "shop.order.changed",
  payment: "shop.payment.changed",
  reservation: "shop.reservation.changed",
  shipment: "shop.shipment.changed",
  account: "bank.account.changed",
} as const;
export type AggregateType = keyof typeof CHANGE_TYPES;

export const changeEventSchemas = Object.fromEntries(
  Object.values(CHANGE_TYPES).map((type) => [type, ChangeSchema]),
) as Record<(typeof CHANGE_TYPES)[AggregateType], typeof ChangeSchema>;

/** Topic of a service's changes: one per service (its own), with the prefix of the deployment. */
export const changeTopic = (prefix: string, service: string) => `${prefix}sagascope.fleet.${service}.changes`;

export function changeMessage(
  change: Omit<Change, "occurredAt"> & { aggregateType: AggregateType; occurredAt?: Date },
  options: { source: string; trace: TraceContext },
): Message {
  const { occurredAt, ...rest } = change;
  const at = occurredAt ?? new Date();
  return encodeDomainEvent(
    domainEvent(
      changeEventSchemas,
      CHANGE_TYPES[change.aggregateType],
      change.aggregateId,
      { ...rest, occurredAt: at.toISOString() },
      { ...options, time: at },
    ) as DomainEvent,
  );
}

export const decodeChange = (message: Parameters<typeof decodeDomainEvent>[1]) =>
  decodeDomainEvent(changeEventSchemas, message);
