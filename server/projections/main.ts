// `npm run projector`: keeps the active generation of the fleet's read model current, follows
// a switch to a rebuilt generation, and publishes a checkpoint (lag per partition) every
// few seconds. `npm run projector -- --rebuild` builds the next generation from offset zero
// beside the active one and switches to it once it has caught up.
import { hostname } from "node:os";
import { Redis } from "ioredis";
import { migrate } from "../db/migrate.ts";
import { createPool } from "../db/pool.ts";
import { env } from "../env.ts";
import { encodeProjectionCheckpoint, ensureTopics, topics } from "../events/index.ts";
import { createKafka, createProducer } from "../events/kafka-client.ts";
import { createFaultControl } from "../fault-switches/fault-control.ts";
import { readFleetManifest } from "../fleet-manifest/fleet-manifest.ts";
import { createLogger } from "../log.ts";
import { kafkaCheck, postgresCheck, redisCheck } from "../metrics/readiness.ts";
import { observeFrom, runProcess } from "../process-edge.ts";
import { projectedTopics, projectorGroup } from "./fleet-topics.ts";
import { measureLag, totalOffsetLag } from "./lag.ts";
import { createOldestUnappliedProbe } from "./oldest-unapplied.ts";
import { createProjector, PROJECTOR_POOL_SIZE, type Projector } from "./projector.ts";
import { activate, activeGeneration, createReadModel, PROJECTION } from "./read-model.ts";
import { rebuildReadModel } from "./rebuild.ts";

const config = env();
const log = createLogger("projector", config.SAGASCOPE_LOG_LEVEL);
const prefix = config.SAGASCOPE_TOPIC_PREFIX;
// What to project is the fleet's to say: the services its manifest lists under projectedServices.
const sources = projectedTopics(prefix, readFleetManifest(config.SAGASCOPE_FLEET_MANIFEST));
if (sources.length === 0) {
  log.error(
    "nothing to project: the fleet manifest (SAGASCOPE_FLEET_MANIFEST) lists no projectedServices; see docs/fleet-manifest.md",
  );
  process.exit(2);
}

if (process.argv.includes("--rebuild")) {
  const pool = createPool(config.DATABASE_URL, PROJECTOR_POOL_SIZE);
  const kafka = createKafka("sagascope-projector-rebuild", config.KAFKA_BROKERS, log);
  let last = -1;
  const result = await rebuildReadModel({
    kafka,
    pool,
    topicPrefix: prefix,
    topics: sources,
    log,
    keepGenerations: config.SAGASCOPE_PROJECTION_KEEP_GENERATIONS,
    maxBatchBytes: config.SAGASCOPE_PROJECTOR_BATCH_BYTES,
    onProgress: (lag) => {
      if (lag !== last) log.info("catching up", { behind: lag });
      last = lag;
    },
  });
  log.info("rebuilt; now serving", { ...result });
  await pool.end();
  process.exit(0);
}

await runProcess(
  "projector",
  log,
  async () => {
    const pool = createPool(config.DATABASE_URL, PROJECTOR_POOL_SIZE);
    const kafka = createKafka("sagascope-projector", config.KAFKA_BROKERS, log);
    const producer = createProducer(kafka);
    const admin = kafka.admin();
    const checkpointTopic = topics(prefix).projectionEvents;
    let current: { generation: number; projector: Projector } | undefined;
    const probe = createOldestUnappliedProbe(
      kafka,
      `${prefix}sagascope.projector.peek`,
      sources,
      log.child("peek"),
    );
    let timers: NodeJS.Timeout[] = [];
    // A pause switch in Redis (`npm run fleet:faults -- projector --pause`): the projector stops
    // applying but keeps reporting, so its lag can be watched growing (demo, maintenance).
    const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const subscriber = new Redis(config.REDIS_URL, { lazyConnect: true });
    for (const r of [redis, subscriber])
      r.on("error", (error) => log.debug("Redis error", { error: error.message }));
    const control = createFaultControl({
      redis,
      subscriber,
      namespace: prefix,
      service: "projector",
      log,
      onCrash: () => process.exit(70),
    });
    let paused = false;
    const obeyPause = () => {
      const wanted = control.faults().paused === true;
      if (wanted === paused) return;
      paused = wanted;
      if (paused) current?.projector.pause();
      else current?.projector.resume();
      log.info(paused ? "paused by the pause switch" : "resumed by the pause switch");
    };

    // One switch at a time: a projector's start can outlast the 2 s follow timer, and a second
    // switch begun meanwhile would start another projector and leave one running unowned.
    let following: Promise<void> = Promise.resolve();
    const follow = (generation: number) => {
      following = following.catch(() => {}).then(() => switchTo(generation));
      return following;
    };

    async function switchTo(generation: number) {
      if (current?.generation === generation) return;
      await current?.projector.stop();
      const projector = createProjector({
        kafka,
        pool,
        generation,
        groupId: projectorGroup(prefix, generation),
        topics: sources,
        log,
        maxBatchBytes: config.SAGASCOPE_PROJECTOR_BATCH_BYTES,
      });
      await projector.start();
      if (paused) projector.pause();
      current = { generation, projector };
    }

    /** `withProbe` false: offsets only, without the oldest waiting change's age (no consumer to join). */
    async function checkpoint(withProbe = true) {
      if (!current) return;
      const { generation } = current;
      const groupId = projectorGroup(prefix, generation);
      const lags = await measureLag(admin, pool, {
        groupId,
        topics: sources,
        generation,
        ...(withProbe ? { probe } : {}),
      });
      await producer.send({
        topic: checkpointTopic,
        messages: [
          encodeProjectionCheckpoint(
            {
              projection: PROJECTION,
              generation,
              groupId,
              active: (await activeGeneration(pool)) === generation,
              partitions: lags.map((l) => ({
                ...l,
                newestAppliedAt: l.newestAppliedAt?.toISOString() ?? null,
              })),
            },
            `/projector/${hostname()}`,
          ),
        ],
      });
      const behind = totalOffsetLag(lags);
      if (behind > 0) log.info("lag", { generation, behind });
    }

    return {
      readiness: [postgresCheck(pool), redisCheck(redis), kafkaCheck(kafka)],
      async start() {
        await migrate(config.SAGASCOPE_MIGRATION_DATABASE_URL ?? config.DATABASE_URL, (line) =>
          log.info(line),
        );
        await admin.connect();
        await ensureTopics(admin, [...sources, checkpointTopic]);
        await producer.connect();
        await probe.start();
        let generation = await activeGeneration(pool);
        if (!generation) {
          await createReadModel(pool, 1);
          await activate(pool, 1);
          generation = 1;
        }
        await follow(generation);
        // The pause switch is a convenience: without Redis the projector runs unpaused.
        await Promise.all([redis.connect(), subscriber.connect()])
          .then(() => control.start())
          .catch((error) => log.warn("pause switch unavailable (Redis)", { error: String(error) }));
        // A first checkpoint at once: the backlog a (re)started projector faces is on the record.
        // Without the probe: after a crash its consumer group still counts the dead process's
        // member until the session times out, and waiting for it would take this checkpoint
        // past the catch-up it is meant to record.
        void checkpoint(false).catch((error) => log.warn("checkpoint failed", { error }));
        timers = [
          setInterval(() => {
            void activeGeneration(pool)
              .then((g) => (g ? follow(g) : undefined))
              .catch((error) => log.warn("could not follow the active generation", { error }));
          }, 2000),
          setInterval(
            () => void checkpoint().catch((error) => log.warn("checkpoint failed", { error })),
            5000,
          ),
          setInterval(obeyPause, 250),
        ];
      },
      async stop() {
        for (const t of timers) clearInterval(t);
        await current?.projector.stop();
        await control.stop().catch(() => {});
        redis.disconnect();
        subscriber.disconnect();
        await probe.stop();
        await producer.disconnect();
        await admin.disconnect();
        await pool.end();
      },
    };
  },
  observeFrom(config),
);
