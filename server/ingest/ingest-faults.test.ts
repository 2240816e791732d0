// The ingester as its own process under a steady load from an outside producer, while the
// things around it fail for real: the database refuses connections for 30 s, one of two
// ingesters of a group is SIGKILLed, the Kafka broker is stopped and started again on the
// same data. Each counts the events the topic holds against those stored: lost 0,
// duplicated 0, every saga's summary right, and reports the time it took to recover.
import { rmSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sagascopeHome } from "../../scripts/infra/infra.ts";
import {
  type BrokerProfile,
  brokerAddress,
  startBroker,
  stopBroker,
} from "../../scripts/infra/kafka-broker.ts";
import { type Child, startTsx, stopChild } from "../../scripts/processes.ts";
import { freePort, scratchDatabase, testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { countStored, startSteadyLoad, waitUntilStored } from "../../scripts/test/steady-load.ts";
import { createPool, type Pool } from "../db/pool.ts";
import { env } from "../env.ts";
import { ensureTopics, topics } from "../events/index.ts";

const SAGAS_PER_SECOND = 10;
/** kafkajs's session timeout: how long a SIGKILLed member keeps its partitions. */
const SESSION_TIMEOUT_MS = 30_000;
/** How long an ingester process may take to start and join its group on a loaded machine. */
const START_ALLOWANCE_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let database: { url: string; drop: () => Promise<void> };
let pool: Pool;
const children: Child[] = [];

beforeAll(async () => {
  database = await scratchDatabase("ingest_faults");
  pool = createPool(database.url, 2);
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopChild(c, 5000)));
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

/** A fresh topic prefix (its own topics, its own group) on `brokers`. */
async function newDeployment(brokers: string[]) {
  const prefix = `${uniqueName("faults")}.`;
  const names = topics(prefix);
  const admin = new Kafka({ clientId: "faults-setup", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(names)).finally(() => admin.disconnect());
  return { prefix, sagaTopic: names.sagaEvents, group: `${prefix}ingester` };
}

function startIngester(name: string, brokers: string[], deployment: { prefix: string; group: string }) {
  const child = startTsx(
    name,
    "server/ingest/main.ts",
    {
      DATABASE_URL: database.url,
      KAFKA_BROKERS: brokers.join(","),
      SAGASCOPE_TOPIC_PREFIX: deployment.prefix,
      SAGASCOPE_INGEST_GROUP: deployment.group,
      SAGASCOPE_LOG_LEVEL: "warn",
    },
    "quiet",
  );
  children.push(child);
  return child;
}

/** Committed offsets of the ingester's group on the saga topic, summed. */
async function committed(brokers: string[], group: string, topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "faults-offsets", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (result?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the group has committed more than `above` on the topic. Until a fresh broker's
 * group coordinator is ready (it creates and loads its offsets topic first, slowly on a loaded
 * machine), Kafka answers the read with a retriable error: the ingester cannot have committed
 * either, so that answer means "not yet".
 */
async function waitForCommitsAbove(
  brokers: string[],
  deployment: { group: string; sagaTopic: string },
  above: number,
): Promise<void> {
  for (const deadline = Date.now() + START_ALLOWANCE_MS; Date.now() < deadline; await sleep(250)) {
    try {
      if ((await committed(brokers, deployment.group, deployment.sagaTopic)) > above) return;
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true) throw error;
    }
  }
  throw new Error(`the ingester committed nothing within ${START_ALLOWANCE_MS / 1000} s of starting`);
}

function report(fault: string, figures: Record<string, number | string>) {
  console.log(`[faults] ${fault}: ${JSON.stringify(figures)}`);
}

describe("the ingester under faults", () => {
  it("two ingesters, one SIGKILLed under load: the survivor takes its partitions; nothing lost or doubled", async () => {
    const brokers = testInfra().kafkaBrokers;
    const deployment = await newDeployment(brokers);
    const load = startSteadyLoad({
      brokers,
      topic: deployment.sagaTopic,
      sagasPerSecond: SAGAS_PER_SECOND,
      prefix: deployment.prefix,
    });
    startIngester("ingester-1", brokers, deployment);
    const doomed = startIngester("ingester-2", brokers, deployment);
    // Both have joined once the group's committed offsets move.
    await waitForCommitsAbove(brokers, deployment, 0);
    await sleep(3000);
    process.kill(-(doomed.process.pid as number), "SIGKILL");
    const killedAt = Date.now();
    await sleep(5000);
    const produced = await load.stop();
    const recoveredIn = await waitUntilStored(pool, produced.sagas, SESSION_TIMEOUT_MS + START_ALLOWANCE_MS);
    const counts = await countStored(pool, brokers, deployment.sagaTopic, produced.sagas);
    report("two ingesters, one killed", {
      produced: produced.sagas.length * 4,
      ...counts,
      recoveredMsAfterLoadEnded: recoveredIn,
      msFromKillToCaughtUp: Date.now() - killedAt,
    });
    expect(counts.inTopic).toBe(produced.sagas.length * 4);
    expect(counts.lost).toBe(0);
    expect(counts.duplicated).toBe(0);
    expect(counts.wrongSummaries).toBe(0);
  }, 180_000);

  it("the database refuses connections for 30 s under load: no offset committed meanwhile; it resumes by itself, nothing lost", async () => {
    const brokers = testInfra().kafkaBrokers;
    const deployment = await newDeployment(brokers);
    const ingester = startIngester("ingester", brokers, deployment);
    const load = startSteadyLoad({
      brokers,
      topic: deployment.sagaTopic,
      sagasPerSecond: SAGAS_PER_SECOND,
      prefix: deployment.prefix,
    });
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: testInfra().databaseUrl });
    await admin.connect();
    const refuse = async (refused: boolean) => {
      await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS ${refused ? "false" : "true"}`);
      if (refused)
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [
          name,
        ]);
    };
    try {
      await waitForCommitsAbove(brokers, deployment, 0);
      await refuse(true);
      const downAt = Date.now();
      // Whatever was in hand when the connections went is settled within a few seconds.
      await sleep(3000);
      const committedWhileDown = await committed(brokers, deployment.group, deployment.sagaTopic);
      await sleep(30_000 - (Date.now() - downAt));
      expect(await committed(brokers, deployment.group, deployment.sagaTopic)).toBe(committedWhileDown);
      expect(ingester.process.exitCode).toBeNull();
      await refuse(false);
      const backAt = Date.now();
      await sleep(3000);
      const produced = await load.stop();
      const recoveredIn = await waitUntilStored(pool, produced.sagas, 60_000);
      const counts = await countStored(pool, brokers, deployment.sagaTopic, produced.sagas);
      report("database refusing connections for 30 s", {
        produced: produced.sagas.length * 4,
        ...counts,
        msFromRestoreToCaughtUp: Date.now() - backAt,
        recoveredMsAfterLoadEnded: recoveredIn,
      });
      expect(counts.lost).toBe(0);
      expect(counts.duplicated).toBe(0);
      expect(counts.wrongSummaries).toBe(0);
      expect(ingester.process.exitCode).toBeNull();
    } finally {
      await refuse(false);
      await admin.end();
    }
  }, 180_000);

  it("the Kafka broker stopped and started again on its data under load: the ingester reconnects by itself, nothing lost or doubled", async () => {
    // A broker of its own: stopping the suite's broker would fail every other test running now.
    const profile: BrokerProfile = {
      name: "faults",
      port: await freePort(),
      controllerPort: await freePort(),
      home: sagascopeHome(env()),
    };
    rmSync(path.join(profile.home, `kafka-${profile.name}`), { recursive: true, force: true });
    await startBroker(profile);
    try {
      const brokers = [brokerAddress(profile)];
      const deployment = await newDeployment(brokers);
      const ingester = startIngester("ingester", brokers, deployment);
      const load = startSteadyLoad({
        brokers,
        topic: deployment.sagaTopic,
        sagasPerSecond: SAGAS_PER_SECOND,
        prefix: deployment.prefix,
      });
      await waitForCommitsAbove(brokers, deployment, 0);
      await sleep(2000);
      await stopBroker(profile);
      const downAt = Date.now();
      await sleep(10_000);
      await startBroker(profile);
      const backAt = Date.now();
      await sleep(5000);
      const produced = await load.stop();
      const recoveredIn = await waitUntilStored(pool, produced.sagas, 90_000);
      const counts = await countStored(pool, brokers, deployment.sagaTopic, produced.sagas);
      report("Kafka broker restarted", {
        produced: produced.sagas.length * 4,
        ...counts,
        failedSends: produced.failedSends,
        brokerDownMs: backAt - downAt,
        msFromBrokerBackToCaughtUp: Date.now() - backAt,
        recoveredMsAfterLoadEnded: recoveredIn,
      });
      expect(counts.lost).toBe(0);
      expect(counts.duplicated).toBe(0);
      expect(counts.wrongSummaries).toBe(0);
      expect(ingester.process.exitCode).toBeNull();
    } finally {
      await Promise.all(children.splice(0).map((c) => stopChild(c, 5000)));
      await stopBroker(profile);
    }
  }, 240_000);
});
