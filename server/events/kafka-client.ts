// One way to build a kafkajs client, with its logs routed into ours.
import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from "kafkajs";
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
        if (level <= KafkaLogLevel.ERROR) kafkaLog.error(message, fields);
        else kafkaLog.warn(message, fields);
      },
  });
}
