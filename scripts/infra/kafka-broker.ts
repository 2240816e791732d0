// The local Apache Kafka broker: fetched from Maven Central with Maven, KRaft single node
// (broker + controller), bound to 127.0.0.1 only, started detached and stopped by pid.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { PrerequisiteError, say, sleep, step, waitUntil } from "./progress.ts";

export const KAFKA_VERSION = "3.9.1";
const here = path.dirname(fileURLToPath(import.meta.url));
export const LOG4J_CONFIG = path.join(here, "kafka", "log4j.properties");

export interface BrokerProfile {
  /** "demo" or "test": each profile has its own ports and data, so both can run at once. */
  name: string;
  port: number;
  controllerPort: number;
  /** SAGASCOPE_HOME: jars are shared by the profiles, data is not. */
  home: string;
}

const pom = path.join(here, "kafka", "pom.xml");
// Keyed by the pom's content too, so that a changed dependency list fetches afresh.
const pomHash = () => createHash("sha256").update(readFileSync(pom)).digest("hex").slice(0, 8);
export const jarsDir = (home: string) => path.join(home, "kafka", `${KAFKA_VERSION}-${pomHash()}`, "libs");
const profileDir = (p: BrokerProfile) => path.join(p.home, `kafka-${p.name}`);
const pidFile = (p: BrokerProfile) => path.join(profileDir(p), "broker.pid");
export const brokerLogFile = (p: BrokerProfile) => path.join(profileDir(p), "broker.log");
export const brokerAddress = (p: BrokerProfile) => `127.0.0.1:${p.port}`;

function commandVersion(command: string, args: string[]): string | undefined {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`;
}

function requireJava17(): void {
  const out = commandVersion("java", ["-version"]);
  const major = Number(out?.match(/version "(\d+)/)?.[1]);
  if (!out || !(major >= 17)) {
    throw new PrerequisiteError(
      `Java 17 or newer is needed to run the Kafka broker (${out ? `found Java ${major}` : "no java on PATH"}). ` +
        "Install it with `apt-get install -y openjdk-17-jre-headless`, or set KAFKA_BROKERS to use your own Kafka.",
    );
  }
}

/** Copies the broker's jars from Maven Central into SAGASCOPE_HOME, once. */
export async function ensureKafkaJars(home: string): Promise<string> {
  const target = jarsDir(home);
  if (existsSync(path.join(target, `kafka_2.13-${KAFKA_VERSION}.jar`))) return target;
  if (!commandVersion("mvn", ["-v"])) {
    throw new PrerequisiteError(
      "Maven is needed once to fetch the Kafka broker from Maven Central. " +
        "Install it with `apt-get install -y maven`, or set KAFKA_BROKERS to use your own Kafka.",
    );
  }
  await step(`fetching Kafka ${KAFKA_VERSION} from Maven Central (first run only)`, async () => {
    const partial = `${target}.partial`;
    rmSync(partial, { recursive: true, force: true });
    // Maven's own output is kept back and shown only when it fails.
    const output: Buffer[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const mvn = spawn(
        "mvn",
        [
          "-B",
          "-q",
          "-f",
          pom,
          "dependency:copy-dependencies",
          `-DoutputDirectory=${partial}`,
          "-DincludeScope=runtime",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      mvn.stdout.on("data", (chunk: Buffer) => output.push(chunk));
      mvn.stderr.on("data", (chunk: Buffer) => output.push(chunk));
      mvn.on("exit", resolve);
    });
    if (code !== 0) {
      throw new PrerequisiteError(
        `Maven could not fetch Kafka (exit ${code}):\n${Buffer.concat(output).toString()}`,
      );
    }
    mkdirSync(path.dirname(target), { recursive: true });
    renameSync(partial, target);
  });
  return target;
}

function readPid(p: BrokerProfile): number | undefined {
  if (!existsSync(pidFile(p))) return undefined;
  const pid = Number(readFileSync(pidFile(p), "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when `pid` is alive and is this profile's broker (not a recycled pid). */
function isOurBroker(pid: number, p: BrokerProfile): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("kafka.Kafka") && cmdline.includes(profileDir(p));
  } catch {
    return false;
  }
}

export function runningBrokerPid(p: BrokerProfile): number | undefined {
  const pid = readPid(p);
  return pid !== undefined && isOurBroker(pid, p) ? pid : undefined;
}

function writeServerProperties(p: BrokerProfile): string {
  const file = path.join(profileDir(p), "server.properties");
  const lines = [
    "# Written by scripts/infra/kafka-broker.ts for the local single-node broker.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${p.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${p.port},CONTROLLER://127.0.0.1:${p.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${p.port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    `log.dirs=${path.join(profileDir(p), "data")}`,
    "num.partitions=3",
    "auto.create.topics.enable=false",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=6",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "log.retention.hours=168",
    "log.segment.bytes=67108864",
  ];
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/**
 * A KRaft cluster id: 16 random bytes, base64url. One that starts with "-" reads as an option
 * to kafka-storage's argument parser (seen failing one format in ~64), so, as Kafka's own
 * Uuid.randomUuid does, such an id is drawn again.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/** Whether a Kafka client can reach the cluster at `brokers` and list its brokers. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    clientId: "sagascope-infra-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Starts the profile's broker unless it already runs; returns its pid. */
export async function startBroker(p: BrokerProfile): Promise<{ pid: number; started: boolean }> {
  const running = runningBrokerPid(p);
  if (running !== undefined) {
    await waitUntil(() => kafkaAnswers([brokerAddress(p)]), {
      timeoutMs: 60_000,
      givingUp: () =>
        `the ${p.name} Kafka broker (pid ${running}) runs but does not answer on ${brokerAddress(p)}`,
    });
    return { pid: running, started: false };
  }
  if (await kafkaAnswers([brokerAddress(p)])) {
    throw new PrerequisiteError(
      `something else already answers on ${brokerAddress(p)} (a broker of another checkout?). ` +
        "Stop it, or set KAFKA_BROKERS to use it.",
    );
  }
  requireJava17();
  const libs = await ensureKafkaJars(p.home);
  const dir = profileDir(p);
  mkdirSync(dir, { recursive: true });
  const config = writeServerProperties(p);
  const classpath = `${libs}/*`;

  if (!existsSync(path.join(dir, "data", "meta.properties"))) {
    await step(`formatting KRaft storage for the ${p.name} broker`, async () => {
      const clusterId = newClusterId();
      const result = spawnSync(
        "java",
        [
          "-cp",
          classpath,
          "kafka.tools.StorageTool",
          "format",
          "-t",
          clusterId,
          "-c",
          config,
          "--ignore-formatted",
        ],
        { encoding: "utf8", env: { ...process.env, KAFKA_LOG4J_OPTS: "" } },
      );
      if (result.status !== 0) {
        throw new PrerequisiteError(`formatting Kafka storage failed: ${result.stderr || result.stdout}`);
      }
    });
  }

  return step(`starting Kafka ${KAFKA_VERSION} (${p.name}) on ${brokerAddress(p)}`, async () => {
    const out = openSync(path.join(dir, "broker.stdout"), "a");
    const broker = spawn(
      "java",
      [
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        `-Dkafka.logs.dir=${dir}`,
        `-Dlog4j.configuration=file:${LOG4J_CONFIG}`,
        "-cp",
        classpath,
        "kafka.Kafka",
        config,
      ],
      { detached: true, stdio: ["ignore", out, out] },
    );
    broker.unref();
    const pid = broker.pid;
    if (pid === undefined) throw new PrerequisiteError("java could not be started");
    writeFileSync(pidFile(p), `${pid}\n`);
    try {
      await waitUntil(
        async () => {
          if (!isOurBroker(pid, p)) {
            throw new PrerequisiteError(
              `the Kafka broker exited during start-up. Last lines of ${brokerLogFile(p)}:\n${tail(brokerLogFile(p), 15)}\n${tail(path.join(dir, "broker.stdout"), 5)}`,
            );
          }
          return kafkaAnswers([brokerAddress(p)]);
        },
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          givingUp: () => `the Kafka broker did not answer within 90 s; see ${brokerLogFile(p)}`,
        },
      );
    } catch (error) {
      // A broker that never became ready is not left behind for a later run to adopt.
      await stopBroker(p);
      throw error;
    }
    return { pid, started: true };
  });
}

/** Stops the profile's broker by its pid: a clean shutdown, then a kill after 30 s. */
export async function stopBroker(p: BrokerProfile): Promise<boolean> {
  const pid = runningBrokerPid(p);
  rmSync(pidFile(p), { force: true });
  if (pid === undefined) return false;
  await step(`stopping the ${p.name} Kafka broker (pid ${pid})`, async () => {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 30_000;
    while (isOurBroker(pid, p) && Date.now() < deadline) await sleep(200);
    if (isOurBroker(pid, p)) {
      say(`the broker did not stop within 30 s; killing it`);
      process.kill(pid, "SIGKILL");
    }
  });
  return true;
}
