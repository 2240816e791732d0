// The breakers of one fleet process: a registry over the shared Redis state, whose state
// changes and stats windows are published on the breaker events topic.
import type { Kafka } from "kafkajs";
import { createBreakerEventPublisher, createBreakerRegistry } from "../breakers/index.ts";
import type { Env } from "../env.ts";
import { ensureTopics, topics } from "../events/index.ts";
import { createProducer } from "../events/kafka-client.ts";
import type { Logger } from "../log.ts";

export function createFleetBreakers(config: Env, kafka: Kafka, instance: string, log: Logger) {
  const producer = createProducer(kafka);
  const topic = topics(config.SAGASCOPE_TOPIC_PREFIX).breakerEvents;
  const publisher = createBreakerEventPublisher({
    producer,
    topic,
    source: `/fleet/${instance}`,
    instance,
    log,
  });
  const registry = createBreakerRegistry({
    redisUrl: config.REDIS_URL,
    namespace: config.SAGASCOPE_TOPIC_PREFIX,
    instance,
    log,
    onTransition: publisher.onTransition,
    onStats: publisher.onStats,
  });
  return {
    registry,
    async start() {
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [topic]).finally(() => admin.disconnect());
      await producer.connect();
      await registry.start();
    },
    async stop() {
      await registry.stop();
      await producer.disconnect();
    },
  };
}
