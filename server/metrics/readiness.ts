// What "ready" means for a process: each dependency it needs answers within a bound. A
// check throws (or times out) when its dependency is not usable; the message says why.
import type { Admin, Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface CheckResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** A check gets this long before it counts as failed. */
export const CHECK_TIMEOUT_MS = 2000;

export async function runChecks(
  checks: ReadinessCheck[],
): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, CheckResult]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)),
              CHECK_TIMEOUT_MS,
            );
          }),
        ]);
        return [c.name, { ok: true, ms: Math.round(performance.now() - started) }];
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return [c.name, { ok: false, ms: Math.round(performance.now() - started), error: message }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

export const postgresCheck = (pool: Pick<Pool, "query">): ReadinessCheck => ({
  name: "postgres",
  check: async () => {
    await pool.query("SELECT 1");
  },
});

export const redisCheck = (redis: {
  status: string;
  connect(): Promise<void>;
  ping(): Promise<string>;
}): ReadinessCheck => ({
  name: "redis",
  check: async () => {
    // A client made with lazyConnect has not connected before its first use.
    if (redis.status === "wait") await redis.connect();
    await redis.ping();
  },
});

/** Kafka answers a metadata request (through an admin client of the check's own, kept connected). */
export function kafkaCheck(kafka: Pick<Kafka, "admin">): ReadinessCheck {
  let admin: Promise<Admin> | undefined;
  const connected = () => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })().catch((error) => {
      admin = undefined;
      throw error;
    });
    return admin;
  };
  return {
    name: "kafka",
    check: async () => {
      await (await connected()).describeCluster();
    },
  };
}
