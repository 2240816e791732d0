// One way to build a kafkajs client, with its logs routed into ours.
import { Kafka, logLevel as KafkaLogLevel, type LogEntry, Partitioners, type Producer } from "kafkajs";
import type { Logger } from "../log.ts";

export function createKafka(clientId: string, brokers: string[], log: Logger): Kafka {
  const kafkaLog = log.child("kafka");
  return new Kafka({
    clientId,
    brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, timestamp: _t, logger: _l, ...fields } = entry;
        // A new group's first join always meets this once while the coordinator is elected.
        if (String(fields.error).includes("group coordinator is not available"))
          kafkaLog.debug(message, fields);
        else if (level <= KafkaLogLevel.ERROR) kafkaLog.error(message, fields);
        else kafkaLog.warn(message, fields);
      },
  });
}

/** A producer with the default (murmur2, Java-compatible) partitioner chosen explicitly. */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}
