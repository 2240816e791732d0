// The service map: services, Kafka topics and Sagascope's own consumers, with the gRPC calls and
// the topics between them, coloured by breaker state, error rate and lag.
import "server-only";
import { readServiceMap } from "../../dashboard/service-map/read-service-map.ts";
import { env } from "../../env.ts";
import { NO_MANIFEST } from "../../fleet-manifest/fleet-manifest.ts";
import { publicProcedure, router } from "../init.ts";

export const serviceMapRouter = router({
  read: publicProcedure.query(({ ctx }) =>
    readServiceMap({
      pool: ctx.pool,
      breakerStore: ctx.breakerStore,
      prefix: env().SAGASCOPE_TOPIC_PREFIX,
      fleet: ctx.fleet ?? NO_MANIFEST,
    }),
  ),
});
