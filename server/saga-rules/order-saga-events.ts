// A saga's true order: its events share one partition (the key is the saga id), so the
// Kafka offset orders them even when producers' clocks disagree. Only a saga whose events
// span partitions (a topic repartitioned mid-saga) falls back to event time.
import type { SagaEventView } from "../dashboard/sagas/saga-dto.ts";

export function orderSagaEvents<E extends Pick<SagaEventView, "time" | "kafka">>(events: E[]): E[] {
  const first = events[0]?.kafka;
  const onePartition = events.every(
    (e) => e.kafka.topic === first?.topic && e.kafka.partition === first?.partition,
  );
  return [...events].sort((a, b) =>
    onePartition
      ? a.kafka.offset - b.kafka.offset
      : a.time.getTime() - b.time.getTime() || a.kafka.offset - b.kafka.offset,
  );
}
