// The cluster as Kafka itself reports it: brokers, topics and consumer groups with their lag.
import { z } from "zod";
import { readKafka } from "../../dashboard/kafka/read-kafka.ts";
import { env } from "../../env.ts";
import { publicProcedure, router } from "../init.ts";

export const kafkaRouter = router({
  overview: publicProcedure
    .input(z.object({ showAll: z.boolean().default(false) }).optional())
    .query(({ input }) => {
      const config = env();
      return readKafka(
        {
          brokers: config.KAFKA_BROKERS,
          prefix: config.SAGASCOPE_TOPIC_PREFIX,
          ingestGroup: config.SAGASCOPE_INGEST_GROUP,
        },
        { showAll: input?.showAll ?? false },
      );
    }),
});
