// docs/fault-switches.md tells a service in any language where its fault settings are: its
// example, run with redis-cli, reads what the dashboard's setFaults wrote.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName } from "../../scripts/test/infra.ts";
import { faultsChannel, faultsKey, setFaults } from "./fault-control.ts";

const doc = readFileSync("docs/fault-switches.md", "utf8");
// The doc's prefix, made the run's own so that nothing shared is touched.
const prefix = `${uniqueName("faultdoc")}.`;
let redis: Redis | undefined;

afterAll(async () => {
  await redis?.del(faultsKey(prefix, "billing"));
  redis?.disconnect();
});

describe("docs/fault-switches.md", () => {
  it("names the key and channel the library uses", () => {
    expect(faultsKey("<prefix>", "<service>")).toBe("<prefix>sagascope:fleet:faults:{<service>}");
    expect(doc).toContain(`\n${faultsKey("<prefix>", "<service>")}\n`);
    expect(doc).toContain(`\n${faultsChannel("<prefix>")}\n`);
  });

  it("its redis-cli example reads what the dashboard wrote", async () => {
    redis = new Redis(testInfra().redisUrl);
    await setFaults(redis, prefix, "billing", { latencyMs: 250 });
    const block = /<!-- fault-switch-example -->\n```sh\n([\s\S]*?)```/.exec(doc)?.[1];
    if (!block) throw new Error("docs/fault-switches.md lost its example");
    const output = execFileSync("bash", ["-c", block.replaceAll("acme.", prefix)], {
      env: { ...process.env, REDIS_URL: testInfra().redisUrl },
      encoding: "utf8",
    });
    expect(output.trim()).toBe("250");
  });
});
