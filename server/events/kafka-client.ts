// One way to build a kafkajs client, with its logs routed into ours.
import {
  type Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type ConsumerSubscribeTopics,
  Kafka,
  logLevel as KafkaLogLevel,
  type LogEntry,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Logger } from "../log.ts";
import { ensureTopics } from "./topics.ts";

export function createKafka(clientId: string, brokers: string[], log: Logger): Kafka {
  const kafkaLog = log.child("kafka");
  return new Kafka({
    clientId,
    brokers,
    // More patience than kafkajs's 5 retries (~10 s): a broker that has just started can take
    // longer to elect a group coordinator on a busy machine, and a consumer that gives up then
    // crashes for good (kafkajs does not restart it for that error). 8 retries wait ~70 s.
    retry: { initialRetryTime: 300, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...fields } = entry;
        // Harmless and expected: a new group's first join meets this once while the coordinator
        // is elected, a member's heartbeat is told to rejoin while its group rebalances, and of
        // two processes creating the same topic at start one "fails".
        const benign =
          String(fields.error).includes("group coordinator is not available") ||
          String(fields.error).includes("group is rebalancing") ||
          (message.includes("CreateTopics") && String(fields.error).includes("Topic creation errors"));
        if (benign) kafkaLog.debug(message, fields);
        else if (level <= KafkaLogLevel.ERROR) kafkaLog.error(message, fields);
        else kafkaLog.warn(message, fields);
      },
  });
}

/**
 * How long the broker holds a consumer's fetch that has nothing to return (kafkajs's default is
 * 5 s). A consumer's disconnect waits for its fetch in flight, so with the default an idle
 * participant, ingester or projector took 5 s to stop. Half a second costs an idle consumer two
 * empty fetches a second; with messages waiting, a fetch returns at once either way.
 */
const FETCH_WAIT_MS = 500;

/** A consumer of ours: an empty fetch is held at most FETCH_WAIT_MS unless `config` says otherwise. */
export function createConsumer(kafka: Kafka, config: ConsumerConfig): Consumer {
  return kafka.consumer({ maxWaitTimeInMs: FETCH_WAIT_MS, ...config });
}

/** A producer with the default (murmur2, Java-compatible) partitioner chosen explicitly. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

/**
 * A producer connected on first use, not at start (a process that may never send needs no
 * Kafka); a failed connection is tried again on the next use.
 */
export function lazyProducer(kafka: () => Kafka): {
  connected: () => Promise<Producer>;
  connectedIfAny: () => Promise<Producer | undefined>;
} {
  let producer: Promise<Producer> | undefined;
  const connected = () => {
    producer ??= (async () => {
      const p = createProducer(kafka());
      await p.connect();
      return p;
    })().catch((error) => {
      producer = undefined;
      throw error;
    });
    return producer;
  };
  return { connected, connectedIfAny: async () => producer?.catch(() => undefined) };
}

/**
 * Makes sure `topics` exist and connects `producer`, retrying with growing pauses until it
 * works or `stopped()` says to give up: a service serves while Kafka is not there yet.
 */
export async function connectWhenKafkaIs(
  kafka: Kafka,
  producer: Producer,
  topicNames: string[],
  log: Logger,
  stopped: () => boolean = () => false,
): Promise<boolean> {
  for (let pause = 500; !stopped(); pause = Math.min(pause * 2, 10_000)) {
    try {
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, topicNames).finally(() => admin.disconnect());
      await producer.connect();
      return true;
    } catch (error) {
      log.warn("Kafka is not reachable yet; retrying", { error: (error as Error).message, inMs: pause });
      await new Promise((r) => setTimeout(r, pause));
    }
  }
  return false;
}

/**
 * Connects, subscribes and runs a consumer, and keeps it running through crashes kafkajs
 * gives up on. kafkajs restarts a consumer only after a retriable error; one that meets a
 * just-started broker whose group coordinator is not ready yet (KafkaJSGroupCoordinatorNotFound)
 * stays down for good. Here any crash it will not restart is followed by the same start after
 * a pause that grows to 30 s, until it succeeds or `stopped()` says the owner stopped it.
 */
export async function runConsumer(
  consumer: Consumer,
  subscription: ConsumerSubscribeTopics,
  config: ConsumerRunConfig,
  log: Logger,
  stopped: () => boolean,
): Promise<void> {
  const start = async () => {
    await consumer.connect();
    await consumer.subscribe(subscription);
    await consumer.run(config);
  };
  let pauseMs = 1000;
  const again = () => {
    if (stopped()) return;
    setTimeout(() => {
      if (stopped()) return;
      start().then(
        () => {
          pauseMs = 1000;
          log.info("consumer running again after a crash");
        },
        (error: unknown) => {
          log.warn("consumer restart failed; trying again", { error: String(error), inMs: pauseMs });
          pauseMs = Math.min(30_000, pauseMs * 2);
          again();
        },
      );
    }, pauseMs);
  };
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart || stopped()) return;
    log.warn("consumer crashed and kafkajs will not restart it; restarting it", {
      error: payload.error.message,
      groupId: payload.groupId,
    });
    again();
  });
  await start();
}
