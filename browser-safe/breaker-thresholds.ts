// The breaker thresholds an admin may change, each with its limits and the words that
// explain a value outside them. Pure (zod only), so the browser's form checks a proposal
// against the very rules the server applies.
import { z } from "zod";

export const ThresholdsSchema = z.object({
  failureRate: z.number().gt(0, "a failure rate above 0%").max(1, "a failure rate of 100% at most"),
  minimumCalls: z
    .number()
    .int("a whole number of calls")
    .min(1, "at least 1 call")
    .max(1_000_000, "at most 1 000 000 calls"),
  windowMs: z
    .number()
    .int()
    .min(100, "a window of 100 ms at least")
    .max(3_600_000, "a window of an hour at most"),
  openMs: z.number().int().min(10, "open for 10 ms at least").max(3_600_000, "open for an hour at most"),
  halfOpenPermits: z
    .number()
    .int("a whole number of trial calls")
    .min(1, "at least 1 trial call")
    .max(1000, "at most 1000 trial calls"),
});
export type Thresholds = z.infer<typeof ThresholdsSchema>;
