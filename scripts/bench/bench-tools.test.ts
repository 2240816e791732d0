// The benchmarks' own measuring tools: where the CPU went (by process and by function), the raw
// COPY ceiling, the ingest load kept running beside a bench, and a topic held until a group settles.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { withTransaction } from "../../server/db/transaction.ts";
import { env, siblingDatabase } from "../../server/env.ts";
import { ensureTopics, newTrace, sagaEvent } from "../../server/events/index.ts";
import { insertSagaEvents } from "../../server/ingest/store-saga-events.ts";
import { testPlan } from "../infra/infra.ts";
import { migratedStore } from "../test/infra.ts";
import { backendCpuOf } from "./backend-cpu.ts";
import { formatProfile, withCpuProfile } from "./cpu-profile.ts";
import { formatCpuPerUnit, formatCpuSplit, nodeRole, startCpuSplit } from "./cpu-split.ts";
import { holdMessages, waitForSettledGroup } from "./held-topic.ts";
import { startIngestLoad } from "./ingest-load.ts";
import { activityBetween, postgresActivity } from "./postgres-activity.ts";
import { copyRowsBack, takeRows } from "./raw-copy.ts";

const store = migratedStore("bench_tools");

describe("backendCpuOf", () => {
  it("reads the CPU of the backend serving a connection: a busy statement adds its time, a sleeping one nothing", async () => {
    const client = new pg.Client({ connectionString: store.url() });
    await client.connect();
    try {
      const backend = await backendCpuOf(client);
      if (!backend) throw new Error("the test's Postgres runs on this machine: its backend must be readable");
      let before = await backend.spentUs();
      const began = performance.now();
      await client.query("SELECT count(*) FROM generate_series(1, 4000000)");
      const wallUs = (performance.now() - began) * 1000;
      const busy = (await backend.spentUs()) - before;
      expect(busy).toBeGreaterThan(20_000);
      expect(busy).toBeLessThanOrEqual(wallUs + 10_000);
      before = await backend.spentUs();
      await client.query("SELECT pg_sleep(0.3)");
      expect((await backend.spentUs()) - before).toBeLessThan(20_000);
    } finally {
      await client.end();
    }
  });
});

describe("postgresActivity", () => {
  it("counts a checkpoint asked for and the WAL written between two readings", async () => {
    const client = new pg.Client({ connectionString: store.url() });
    await client.connect();
    try {
      await client.query("CREATE TABLE IF NOT EXISTS activity_probe (n int, filler text)");
      const before = await postgresActivity(client);
      // About 6 MiB of rows, each written to the WAL.
      await client.query(
        "INSERT INTO activity_probe SELECT n, repeat('x', 200) FROM generate_series(1, 25000) n",
      );
      await client.query("CHECKPOINT");
      const between = activityBetween(before, await postgresActivity(client));
      expect(between.checkpoints.requested).toBeGreaterThanOrEqual(1);
      expect(between.walMiB).toBeGreaterThan(4);
    } finally {
      await client.query("DROP TABLE IF EXISTS activity_probe");
      await client.end();
    }
  });
});

describe("startCpuSplit", () => {
  it("counts this process's busy time as its own, its event loop as busy, and the shares add up to the machine", () => {
    const watch = startCpuSplit();
    const until = Date.now() + 400;
    let n = 0;
    while (Date.now() < until) n += Math.sqrt(n + 1);
    const split = watch.stop();
    expect(n).toBeGreaterThan(0);
    // One busy thread of two cores is up to half the machine; a loaded machine may give it less.
    expect(split.self).toBeGreaterThan(0.05);
    const total = split.self + split.idle + split.others.reduce((s, o) => s + o.share, 0);
    expect(total).toBeGreaterThan(0.9);
    // The loop ran nothing else for the whole window: busy however little CPU a loaded machine gave it.
    expect(split.loop).toBeGreaterThan(0.9);
    expect(formatCpuSplit(split, "me")).toMatch(/^me \d+% \(its event loop busy \d+%\), .*idle \d+%$/);
  });
});

describe("nodeRole", () => {
  it("names a node process by the script it runs, or by the package whose script it runs", () => {
    // tsx's launcher and the node process it starts, from a checkout anywhere.
    expect(nodeRole(["node", "node_modules/.bin/tsx", "server/ingest/main.ts"])).toBe(
      "node server/ingest/main.ts",
    );
    expect(
      nodeRole([
        "/usr/bin/node",
        "--require",
        "/home/x/sagascope/node_modules/tsx/dist/preflight.cjs",
        "--import",
        "file:///home/x/sagascope/node_modules/tsx/dist/loader.mjs",
        "/home/x/sagascope/server/ingest/main.ts",
      ]),
    ).toBe("node server/ingest/main.ts");
    expect(nodeRole(["node", "/x/node_modules/playwright-core/lib/cli/cli.js", "run-driver"])).toBe(
      "node playwright-core",
    );
    expect(nodeRole(["node", "/x/node_modules/@scope/tool/bin/run.mjs"])).toBe("node @scope/tool");
    expect(nodeRole(["node", "-e", "1"])).toBe("node");
  });

  it("tells a running node process by its script in the split", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cpu-role-"));
    const script = join(dir, "server", "spin.mjs");
    await mkdir(join(dir, "server"));
    await writeFile(
      script,
      `while (process.cpuUsage().user < 300_000) Math.sqrt(Math.random());
       console.log("done"); setInterval(() => {}, 1000);`,
    );
    const watch = startCpuSplit();
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => d.toString().includes("done") && resolve());
        child.on("exit", (code) => reject(new Error(`the spinner exited with ${code}`)));
      });
      const split = watch.stop();
      expect(split.others.find((o) => o.command === "node server/spin.mjs")?.share ?? 0).toBeGreaterThan(
        0.01,
      );
    } finally {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("startCpuSplit, a JVM's JIT", () => {
  it("counts a JVM's JIT compiler threads apart, within its share", async () => {
    // -Xcomp compiles every method before its first run: a JVM (the source launcher compiling
    // this file first) whose compiler threads are busy for seconds, as a young broker's are.
    const dir = await mkdtemp(join(tmpdir(), "cpu-jit-"));
    await writeFile(
      join(dir, "Idle.java"),
      "public class Idle { public static void main(String[] a) throws Exception { Thread.sleep(60000); } }",
    );
    const watch = startCpuSplit();
    const jvm = spawn("java", ["-Xcomp", join(dir, "Idle.java")], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(jvm.exitCode, "the JVM must still run when the split is taken").toBeNull();
      const split = watch.stop();
      const java = split.others.find((o) => o.command === "java" && (o.compiling ?? 0) > 0);
      if (!java) throw new Error(`no JVM compiling in the split: ${formatCpuSplit(split, "test")}`);
      expect(java.compiling).toBeGreaterThan(java.share / 2);
      expect(java.compiling).toBeLessThanOrEqual(java.share);
      expect(formatCpuSplit(split, "test")).toMatch(/java \d+% \(its JIT compiling \d+%\)/);
      // Not a JVM: no compiling share.
      expect(split.others.filter((o) => o.command !== "java").every((o) => o.compiling === undefined)).toBe(
        true,
      );
    } finally {
      jvm.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A node process named `title` that burns `cpuMs` of CPU, says "done", then idles until killed. */
function burner(title: string, cpuMs: number) {
  const code = `process.title = ${JSON.stringify(title)};
    while (process.cpuUsage().user < ${cpuMs * 1000}) Math.sqrt(Math.random());
    console.log("done"); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const done = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("done") && resolve());
    child.on("exit", (code) => reject(new Error(`the burner exited with ${code}`)));
  });
  return { child, done };
}

describe("startCpuSplit, processes that come and go", () => {
  it("counts a process that ended in the window as nothing, not against the others of its command", async () => {
    const title = `cpuprobe${process.pid % 10_000}`;
    // The one that ends has more CPU behind it than the other spends in the window: subtracting
    // its ticks would leave the command below zero, and it would vanish from the split.
    const ending = burner(title, 500);
    let staying: ReturnType<typeof burner> | undefined;
    try {
      await ending.done;
      const watch = startCpuSplit();
      const exited = new Promise((resolve) => ending.child.on("exit", resolve));
      ending.child.kill("SIGKILL");
      await exited;
      staying = burner(title, 200);
      await staying.done;
      const split = watch.stop();
      const share = split.others.find((o) => o.command === title)?.share ?? 0;
      expect(share).toBeGreaterThan(0.01);
    } finally {
      ending.child.kill("SIGKILL");
      staying?.child.kill("SIGKILL");
    }
  });
});

describe("formatCpuPerUnit", () => {
  it("turns shares of the machine over a run into CPU time per unit of work, largest first", () => {
    // 2 cores for 1 s is 2 000 ms of CPU; 40 sagas: 50 ms each at 100 % busy.
    const split = {
      self: 0.25,
      loop: 0.97,
      others: [
        { command: "postgres", share: 0.4 },
        { command: "java", share: 0.3 },
      ],
      idle: 0.05,
    };
    expect(formatCpuPerUnit(split, { ms: 1000, units: 40 }, "bench", "a saga", 2)).toBe(
      "48 ms of CPU a saga: postgres 20, java 15, bench 13",
    );
    expect(formatCpuPerUnit({ ...split, others: [] }, { ms: 100, units: 40 }, "bench", "a saga", 2)).toBe(
      "1.3 ms of CPU a saga: bench 1.3",
    );
    // 60 000 events in 3 s on 2 cores, the process at 40 %: 2.4 s of CPU, 40 µs an event.
    expect(
      formatCpuPerUnit(
        { ...split, self: 0.4, others: [] },
        { ms: 3000, units: 60_000 },
        "ingester",
        "an event",
        2,
        "µs",
      ),
    ).toBe("40 µs of CPU an event: ingester 40");
  });
});

describe("withCpuProfile", () => {
  it("profiles the work it runs, writes the profile, and names the function that spent the time", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-profile-"));
    try {
      function spinForAWhile() {
        const until = Date.now() + 300;
        let n = 0;
        while (Date.now() < until) n += Math.sqrt(n + 1);
        return n;
      }
      const { result, profile, file } = await withCpuProfile(dir, "spin", async () => spinForAWhile());
      expect(result).toBeGreaterThan(0);
      expect(file && JSON.parse(await readFile(file, "utf8")).samples.length).toBeGreaterThan(0);
      expect(profile?.totalMs).toBeGreaterThanOrEqual(250);
      // On a loaded machine the thread may be descheduled, but the spin is still its largest self time.
      expect(profile?.top.filter((t) => t.name !== "(idle)")[0]?.name).toMatch(/^spinForAWhile/);
      expect(formatProfile(profile as NonNullable<typeof profile>)).toContain("spinForAWhile");
      expect((await withCpuProfile(undefined, "none", async () => 1)).profile).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("raw COPY", () => {
  it("writes back exactly the rows it took, into the same tables", async () => {
    const pool = store.pool();
    const events = Array.from({ length: 40 }, (_, i) =>
      sagaEvent(
        "io.sagascope.saga.started",
        { sagaId: `copy-${i}`, sagaType: "copy", mode: "orchestrated", steps: [{ name: "a", service: "s" }] },
        { source: "/bench-tools", trace: newTrace() },
      ),
    );
    await withTransaction(pool, (client) =>
      insertSagaEvents(
        client,
        events.map((event, offset) => ({ event, position: { topic: "t", partition: 0, offset } })),
      ),
    );
    const snapshot = async () =>
      (
        await pool.query(
          "SELECT e.*, i.body_md5 FROM saga_event e JOIN saga_event_identity i USING (source, id) ORDER BY e.id",
        )
      ).rows;
    const before = await snapshot();
    const taken = await takeRows(pool, ["saga_event", "saga_event_identity"]);
    expect(taken.map((t) => t.rows)).toEqual([40, 40]);
    const ms = await copyRowsBack(pool, taken);
    expect(ms).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(before);
  });
});

describe("startIngestLoad", () => {
  it("keeps an ingester storing what a producer publishes at the rate asked, and leaves no database behind", async () => {
    const load = await startIngestLoad(400);
    const first = load.counts();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const end = await load.stop();
    expect(end.produced - first.produced).toBeGreaterThan(100);
    expect(end.stored).toBeGreaterThan(first.stored);
    expect(end.stored).toBeLessThanOrEqual(end.produced);
    // About the rate asked: 400 a second, give or take a tick and the machine's load.
    expect(end.produced / end.seconds).toBeLessThan(600);
    const name = new URL(siblingDatabase(testPlan(env()).databaseUrl, "_beside")).pathname.slice(1);
    const admin = new pg.Client({ connectionString: testPlan(env()).databaseUrl });
    await admin.connect();
    const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    await admin.end();
    expect(left.rowCount).toBe(0);
  }, 60_000);
});

describe("holdMessages and waitForSettledGroup", () => {
  it("keep a topic's messages unreadable until released, once a group of two has settled on it", async () => {
    const kafka = new Kafka({
      clientId: "bench-tools",
      brokers: testPlan(env()).kafkaBrokers,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `bench-tools-held-${randomUUID()}`;
    const groupId = `bench-tools-held-${randomUUID()}`;
    const consumers = [
      kafka.consumer({ groupId, maxWaitTimeInMs: 200 }),
      kafka.consumer({ groupId, maxWaitTimeInMs: 200 }),
    ];
    let held: Awaited<ReturnType<typeof holdMessages>> | undefined;
    try {
      await ensureTopics(admin, [topic], 2);
      held = await holdMessages(
        kafka,
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `message ${i}` })),
      );
      const seen: string[] = [];
      for (const consumer of consumers) {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
      }
      await waitForSettledGroup(admin, groupId, 2);
      await expect(waitForSettledGroup(admin, groupId, 3, 500)).rejects.toThrow(
        /did not settle with 3 members holding partitions in 500 ms \(state Stable, 2 of 2 holding\)/,
      );
      // Written, and read by nobody while the transaction is open (both members fetch meanwhile).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(seen).toEqual([]);
      await held.release();
      held = undefined;
      await expect.poll(() => seen.length, { timeout: 30_000 }).toBe(20);
      expect(new Set(seen).size).toBe(20);
    } finally {
      await held?.abort().catch(() => {});
      for (const consumer of consumers) await consumer.disconnect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  }, 90_000);
});
