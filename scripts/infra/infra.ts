// The infrastructure a Sagascope process needs, as one plan per profile ("demo" for
// `npm run demo`, "test" for `npm test`), so both can be up at the same time.
import path from "node:path";
import type { Env } from "../../server/env.ts";
import {
  type BrokerProfile,
  brokerAddress,
  brokerLogFile,
  KAFKA_VERSION,
  kafkaAnswers,
  runningBrokerPid,
  startBroker,
  stopBroker,
} from "./kafka-broker.ts";
import { ensurePostgres } from "./postgres.ts";
import { PrerequisiteError, say } from "./progress.ts";
import { ensureRedis } from "./redis.ts";

export interface InfraPlan {
  name: "demo" | "test";
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string[];
  /** The local broker to run, or undefined when KAFKA_BROKERS names the user's own. */
  broker?: BrokerProfile;
  given: Env["given"];
}

export function demoPlan(env: Env): InfraPlan {
  return {
    name: "demo",
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    kafkaBrokers: env.KAFKA_BROKERS,
    broker: env.given.kafka ? undefined : localBroker("demo", env.KAFKA_BROKERS[0] ?? "127.0.0.1:9092", env),
    given: env.given,
  };
}

/** The suite's own database, Redis db and broker: tests never see the demo's data. */
export function testPlan(env: Env): InfraPlan {
  const database = new URL(env.DATABASE_URL);
  const name = database.pathname.slice(1);
  database.pathname = `/${name.endsWith("_test") ? name : `${name}_test`}`;
  const redis = new URL(env.REDIS_URL);
  redis.pathname = "/15";
  const broker = env.given.kafka ? undefined : localBroker("test", "127.0.0.1:19092", env);
  return {
    name: "test",
    databaseUrl: database.toString(),
    redisUrl: redis.toString(),
    kafkaBrokers: broker ? [brokerAddress(broker)] : env.KAFKA_BROKERS,
    broker,
    given: env.given,
  };
}

function localBroker(name: string, address: string, env: Env): BrokerProfile {
  const port = Number(address.split(":")[1]);
  return { name, port, controllerPort: port + 1, home: sagascopeHome(env) };
}

/** The environment a child process of this plan runs with. */
export function planEnv(plan: InfraPlan): Record<string, string> {
  return {
    DATABASE_URL: plan.databaseUrl,
    REDIS_URL: plan.redisUrl,
    KAFKA_BROKERS: plan.kafkaBrokers.join(","),
  };
}

export interface InfraUp {
  /** True when this call started the broker, so the caller knows it should stop it. */
  startedBroker: boolean;
}

export async function infraUp(plan: InfraPlan): Promise<InfraUp> {
  await ensurePostgres(plan.databaseUrl, plan.given.database);
  await ensureRedis(plan.redisUrl, plan.given.redis);
  if (!plan.broker) {
    if (!(await kafkaAnswers(plan.kafkaBrokers))) {
      throw new PrerequisiteError(`cannot reach Kafka at KAFKA_BROKERS=${plan.kafkaBrokers.join(",")}`);
    }
    return { startedBroker: false };
  }
  const { started } = await startBroker(plan.broker);
  return { startedBroker: started };
}

export async function infraDown(plan: InfraPlan): Promise<void> {
  if (!plan.broker) {
    say("KAFKA_BROKERS names your own Kafka: nothing to stop");
    return;
  }
  if (!(await stopBroker(plan.broker))) say(`the ${plan.name} Kafka broker is not running`);
  say("PostgreSQL and Redis are shared machine services and stay up");
}

export async function infraStatus(plan: InfraPlan): Promise<string[]> {
  const kafkaUp = await kafkaAnswers(plan.kafkaBrokers);
  const pid = plan.broker ? runningBrokerPid(plan.broker) : undefined;
  const where = plan.broker
    ? `local Kafka ${KAFKA_VERSION}${pid ? `, pid ${pid}` : ""}, log ${brokerLogFile(plan.broker)}`
    : "your own Kafka";
  return [
    `profile   ${plan.name}`,
    `kafka     ${kafkaUp ? "up" : "down"}  ${plan.kafkaBrokers.join(",")} (${where})`,
    `postgres  ${redact(plan.databaseUrl)}`,
    `redis     ${redact(plan.redisUrl)}`,
  ];
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/** Where the local infrastructure keeps Kafka's jars, data, logs and pid files. */
export function sagascopeHome(env: { SAGASCOPE_HOME?: string | undefined }): string {
  return env.SAGASCOPE_HOME ?? path.resolve(".sagascope");
}
