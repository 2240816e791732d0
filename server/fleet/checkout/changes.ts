// A checkout service's changes to its own rows, published on its own change topic through
// the same transaction (the participant's outbox) as the change itself.
import type { Message } from "kafkajs";
import type { TraceContext } from "../../events/index.ts";
import { type AggregateType, changeMessage, changeTopic } from "../../projections/change-events.ts";

export type ChangeSink = (
  ctx: { emit(topic: string, message: Message): void; saga: { span: TraceContext } },
  aggregateType: AggregateType,
  op: "created" | "updated" | "deleted",
  row: { id: string; version: number } & Record<string, unknown>,
) => void;

/** A row as RETURNING * gives it, with its id column named: the change's id, version and state. */
export function asChangeRow(row: Record<string, unknown>, idColumn: string) {
  return { ...row, id: String(row[idColumn]), version: Number(row.version) };
}

export function changeSink(topicPrefix: string, service: string): ChangeSink {
  const topic = changeTopic(topicPrefix, service);
  return (ctx, aggregateType, op, { id, version, ...state }) =>
    ctx.emit(
      topic,
      changeMessage(
        { aggregateType, aggregateId: id, op, version, state },
        { source: `/fleet/checkout/${service}`, trace: ctx.saga.span },
      ),
    );
}
