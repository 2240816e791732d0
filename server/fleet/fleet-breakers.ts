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
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let stopped = false;
  // The service serves whether or not Kafka is there yet: events wait, calls never do.
  async function connectEvents() {
    for (let pause = 500; !stopped; pause = Math.min(pause * 2, 10_000)) {
      try {
        const admin = kafka.admin();
        await admin.connect();
        await ensureTopics(admin, [topic]).finally(() => admin.disconnect());
        await producer.connect();
        markReady();
        return;
      } catch (error) {
        log.warn("breaker events cannot be published yet; retrying", { error: (error as Error).message });
        await new Promise((r) => setTimeout(r, pause));
      }
    }
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
