// Redis: the user's server when REDIS_URL is given, otherwise the local one on
// 127.0.0.1:6379, started (without persistence) when it is down.
import { spawnSync } from "node:child_process";
import { Redis } from "ioredis";
import { PrerequisiteError, step, waitUntil } from "./progress.ts";

async function pings(url: string): Promise<true | Error> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    return error as Error;
  } finally {
    redis.disconnect();
  }
}

export async function ensureRedis(url: string, given: boolean): Promise<void> {
  let reached = await pings(url);
  if (reached === true) return;
  if (given) throw new PrerequisiteError(`cannot reach Redis at REDIS_URL: ${reached.message}`);
  await step("starting the local Redis", async () => {
    const result = spawnSync(
      "redis-server",
      ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", ""],
      { encoding: "utf8" },
    );
    if (result.error || result.status !== 0) {
      throw new PrerequisiteError(
        "Redis is not running on 127.0.0.1:6379 and could not be started " +
          "(`apt-get install -y redis-server`, or set REDIS_URL to your own server).",
      );
    }
    await waitUntil(
      async () => {
        reached = await pings(url);
        return reached === true;
      },
      {
        timeoutMs: 15_000,
        givingUp: () => `Redis did not answer after start: ${(reached as Error).message}`,
      },
    );
  });
}
