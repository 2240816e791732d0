// Publishes saga events to the contract's topic, keyed by saga id.
import type { Producer } from "kafkajs";
import { encodeSagaEvent, type SagaEvent } from "../events/index.ts";

export function createKafkaEventSink(producer: Producer, topic: string): (event: SagaEvent) => Promise<void> {
  return async (event) => {
    await producer.send({ topic, messages: [encodeSagaEvent(event)] });
  };
}
