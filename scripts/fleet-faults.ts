// `npm run fleet:faults -- <service> [--error-rate R] [--latency-ms N] [--slow-rate R]
// [--slow-ms N] [--crash] [--clear]`, or `projector --pause|--resume`: changes a demo
// service's injected faults at run time.
import { Redis } from "ioredis";
import { z } from "zod";
import { env } from "../server/env.ts";
import { setFaults } from "../server/fault-switches/fault-control.ts";

const USAGE =
  "usage: npm run fleet:faults -- <bank-a|bank-b|screening|order|payment|inventory|shipping> [--error-rate 0..1] [--latency-ms N] [--slow-rate 0..1] [--slow-ms N] [--crash] [--clear]\n       npm run fleet:faults -- projector --pause|--resume";

const [service, ...rest] = process.argv.slice(2);
const flags: Record<string, string | boolean> = {};
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i] ?? "";
  if (!flag.startsWith("--")) {
    console.error(`${USAGE}\nunexpected argument ${flag}`);
    process.exit(2);
  }
  const next = rest[i + 1];
  if (next !== undefined && !next.startsWith("--")) {
    flags[flag.slice(2)] = next;
    i++;
  } else flags[flag.slice(2)] = true;
}
const Args = z
  .object({
    service: z.enum([
      "bank-a",
      "bank-b",
      "screening",
      "order",
      "payment",
      "inventory",
      "shipping",
      "projector",
    ]),
    "error-rate": z.coerce.number().min(0).max(1).optional(),
    "latency-ms": z.coerce.number().int().min(0).max(60_000).optional(),
    "slow-rate": z.coerce.number().min(0).max(1).optional(),
    "slow-ms": z.coerce.number().int().min(0).max(600_000).optional(),
    crash: z.literal(true).optional(),
    clear: z.literal(true).optional(),
    pause: z.literal(true).optional(),
    resume: z.literal(true).optional(),
  })
  .strict()
  .refine((a) => !(a.pause && a.resume), { message: "--pause or --resume, not both" })
  .refine((a) => (a.service === "projector") === Boolean(a.pause || a.resume || a.clear), {
    message: "the projector takes --pause or --resume; the other services take call faults",
  });
const parsed = Args.safeParse({ service, ...flags });
if (!parsed.success) {
  console.error(
    `${USAGE}\n${parsed.error.issues.map((i) => `${i.path.join(".") || "argument"}: ${i.message}`).join("\n")}`,
  );
  process.exit(2);
}
const a = parsed.data;
const config = env();
const redis = new Redis(config.REDIS_URL);
await setFaults(redis, config.SAGASCOPE_TOPIC_PREFIX, a.service, {
  errorRate: a["error-rate"],
  latencyMs: a["latency-ms"],
  slowRate: a["slow-rate"],
  slowMs: a["slow-ms"],
  crash: a.crash,
  clear: a.clear,
  paused: a.pause ? true : a.resume ? false : undefined,
});
redis.disconnect();
console.log(`faults of ${a.service} updated; the service picks them up within a second`);
