// The breakers of one fleet process: a registry over the shared Redis state, whose state
// changes and stats windows are published on the breaker events topic.
import type { Kafka } from "kafkajs";
import { createBreakerEventPublisher, createBreakerRegistry } from "../breakers/index.ts";
import type { Env } from "../env.ts";
import { topics } from "../events/index.ts";
import { connectWhenKafkaIs, createProducer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";

export function createFleetBreakers(config: Env, kafka: Kafka, instance: string, log: Logger) {
  const producer = createProducer(kafka);
  const topic = topics(config.SAGASCOPE_TOPIC_PREFIX).breakerEvents;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let stopped = false;
  // The service serves whether or not Kafka is there yet: events wait, calls never do.
  async function connectEvents() {
    if (await connectWhenKafkaIs(kafka, producer, [topic], log, () => stopped)) markReady();
  }
  const publisher = createBreakerEventPublisher({
    producer,
    topic,
    source: `/fleet/${instance}`,
    instance,
    log,
    ready,
  });
  const registry = createBreakerRegistry({
    redisUrl: config.REDIS_URL,
    namespace: config.SAGASCOPE_TOPIC_PREFIX,
    instance,
    log,
    onTransition: publisher.onTransition,
    onStats: publisher.onStats,
  });
  let connecting: Promise<void> | undefined;
  return {
    registry,
    async start() {
      await registry.start();
      connecting = connectEvents();
    },
    async stop() {
      stopped = true;
      await registry.stop();
      await connecting;
      await producer.disconnect();
    },
  };
}
