// The cluster as Kafka itself reports it: brokers, topics and consumer groups with their lag,
// and each group's lag over time as the ingester samples it.
import "server-only";
import { z } from "zod";
import { samplingScope } from "../../dashboard/kafka/deployment-names.ts";
import { readGroupLagHistory, readGroupsTimeToClear } from "../../dashboard/kafka/group-lag-history.ts";
import { readKafka } from "../../dashboard/kafka/read-kafka.ts";
import { LAG_RANGES } from "../../dashboard/projections/lag-history.ts";
import { env } from "../../env.ts";
import { publicProcedure, router } from "../init.ts";

const ranges = Object.keys(LAG_RANGES) as [keyof typeof LAG_RANGES, ...(keyof typeof LAG_RANGES)[]];

function deployment() {
  const config = env();
  return {
    brokers: config.KAFKA_BROKERS,
    prefix: config.SAGASCOPE_TOPIC_PREFIX,
    ingestGroup: config.SAGASCOPE_INGEST_GROUP,
  };
}

export const kafkaRouter = router({
  overview: publicProcedure
    .input(z.object({ showAll: z.boolean().default(false) }).optional())
    .query(({ input }) => readKafka(deployment(), { showAll: input?.showAll ?? false })),

  /** Each sampled group's "when will this clear", from the last minute of samples. */
  timesToClear: publicProcedure.query(({ ctx }) =>
    readGroupsTimeToClear(ctx.pool, samplingScope(deployment())),
  ),

  groupLagHistory: publicProcedure
    .input(z.object({ groupId: z.string().min(1).max(255), range: z.enum(ranges).default("15m") }))
    .query(({ ctx, input }) =>
      readGroupLagHistory(ctx.pool, samplingScope(deployment()), input.groupId, input.range),
    ),
});
