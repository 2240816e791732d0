// The built processes as a deployment runs them (`npm run build`, then `sagascope <role>`):
// the command lists its roles; `migrate` brings a new database up to date; `ingest` answers
// /readyz and stores a saga event produced to Kafka; `web` serves the dashboard with its
// security headers. Run by `npm test` after the build (vitest.built.config.ts).
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSagaEvent, ensureTopics, newTrace, sagaEvent, topics } from "../../server/events/index.ts";
import { type Child, freePort, startChild, stopChild } from "../processes.ts";
import { scratchDatabase, testInfra, uniqueName, until } from "./infra.ts";

const sagascope = (args: string[], env: Record<string, string> = {}) =>
  spawnSync("node", ["bin/sagascope.mjs", ...args], { encoding: "utf8", env: { ...process.env, ...env } });

let db: Awaited<ReturnType<typeof scratchDatabase>>;
const children: Child[] = [];
const prefix = `${uniqueName("built")}.`;
const env = () => ({
  DATABASE_URL: db.url,
  FLEET_DATABASE_URL: db.url,
  KAFKA_BROKERS: testInfra().kafkaBrokers.join(","),
  REDIS_URL: testInfra().redisUrl,
  SAGASCOPE_TOPIC_PREFIX: prefix,
  SAGASCOPE_INGEST_GROUP: `${prefix}ingester`,
  SAGASCOPE_LOG_LEVEL: "warn",
});

beforeAll(async () => {
  db = await scratchDatabase("built");
});

afterAll(async () => {
  for (const child of children) await stopChild(child, 10_000);
  await db?.drop();
});

const answers = (url: string) =>
  fetch(url).then(
    (r) => r.status,
    () => 0,
  );

describe("the built processes", () => {
  it("list their roles; an unknown role is refused with the list", () => {
    const help = sagascope(["--help"]);
    expect(help.status).toBe(0);
    for (const role of [
      "web",
      "ingest",
      "migrate",
      "projector",
      "bank",
      "transfers",
      "checkout",
      "screening",
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${role} `, "m"));
    const unknown = sagascope(["ingester"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no role "ingester"');
  });

  it("migrate brings a new database up to date, then exits", async () => {
    const run = sagascope(["migrate"], env());
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/\d+ migration\(s\) applied; the database is current/);
    const again = sagascope(["migrate"], env());
    expect(again.stdout).toContain("0 migration(s) applied");
  });

  it("ingest answers /readyz and stores a saga event produced to Kafka", async () => {
    const kafka = new Kafka({
      clientId: "built-test",
      brokers: testInfra().kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const contract = topics(prefix);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, Object.values(contract), 1).finally(() => admin.disconnect());
    const port = await freePort();
    const ingest = startChild(
      "built ingest",
      "node",
      ["bin/sagascope.mjs", "ingest"],
      {
        ...env(),
        SAGASCOPE_METRICS_PORT: String(port),
      },
      "quiet",
    );
    children.push(ingest);
    await until(
      "the built ingester ready",
      async () => (await answers(`http://127.0.0.1:${port}/readyz`)) === 200,
      90_000,
    );
    const sagaId = `built-${randomUUID()}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: contract.sagaEvents,
      messages: [
        encodeSagaEvent(
          sagaEvent(
            "io.sagascope.saga.started",
            { sagaId, sagaType: "transfer", mode: "orchestrated", steps: [{ name: "debit", service: "a" }] },
            { source: "/built-test", trace: newTrace() },
          ),
        ),
      ],
    });
    await producer.disconnect();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await until(
        "the event stored",
        async () =>
          (await client.query("SELECT 1 FROM saga_summary WHERE saga_id = $1", [sagaId])).rowCount === 1,
        60_000,
      );
    } finally {
      await client.end();
    }
  });

  it("web serves the dashboard from the build, with its security headers", async () => {
    const port = await freePort();
    const web = startChild(
      "built web",
      "node",
      ["bin/sagascope.mjs", "web"],
      {
        ...env(),
        PORT: String(port),
        SAGASCOPE_MODE: "demo",
      },
      "quiet",
    );
    children.push(web);
    await until(
      "the built dashboard up",
      async () => (await answers(`http://127.0.0.1:${port}/healthz`)) === 200,
      90_000,
    );
    const page = await fetch(`http://127.0.0.1:${port}/sign-in`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain("Sagascope");
    expect(await answers(`http://127.0.0.1:${port}/api/trpc/auth.me`)).toBe(200);
  });
});
