// The saga list's filters: one schema for the API, one for the page's URL (short names, so
// that a filtered list is a link to share), and how a time range becomes a window.
import { z } from "zod";
import { WAITING_ON } from "./waiting-on.ts";

export const SAGA_STATUSES = [
  "running",
  "compensating",
  "completed",
  "compensated",
  "failed",
  "timed_out",
  "resolved",
] as const;
export type SagaStatusFilter = (typeof SAGA_STATUSES)[number];

/** Relative ranges, resolved when the query runs so that a shared "last hour" stays the last hour. */
export const SINCE_RANGES = { "15m": 15, "1h": 60, "6h": 360, "24h": 1440, "7d": 10_080 } as const;
export type SinceRange = keyof typeof SINCE_RANGES;
const SINCE_KEYS = Object.keys(SINCE_RANGES) as [SinceRange, ...SinceRange[]];

const word = z.string().trim().min(1).max(200);

export const SagaFilterSchema = z
  .object({
    status: z.enum(SAGA_STATUSES).optional(),
    stuck: z.boolean().optional(),
    /** What a saga waits on (stuck ones say why; "operator": a compensation given up). */
    waitingOn: z.enum(WAITING_ON).optional(),
    sagaType: word.optional(),
    mode: z.enum(["orchestrated", "choreographed"]).optional(),
    /** Sagas in which this service took part. */
    service: word.optional(),
    /** Sagas at this step now, or that failed at it. */
    step: word.optional(),
    since: z.enum(SINCE_KEYS).optional(),
    from: z.date().optional(),
    to: z.date().optional(),
    /** A saga id, a trace id or a business key, matched exactly. */
    search: z.string().trim().max(200).optional(),
  })
  .refine((f) => !(f.from && f.to) || f.from < f.to, {
    message: "the range must start before it ends",
    path: ["to"],
  })
  .refine((f) => !(f.since && (f.from || f.to)), {
    message: "give either a relative range or a from/to range, not both",
    path: ["since"],
  });
export type SagaFilter = z.infer<typeof SagaFilterSchema>;

/** The page's URL parameters. */
export const SagaListParamsSchema = z.object({
  status: z.enum(SAGA_STATUSES).optional(),
  type: word.optional(),
  mode: z.enum(["orchestrated", "choreographed"]).optional(),
  stuck: z.literal("1").optional(),
  waiting: z.enum(WAITING_ON).optional(),
  service: word.optional(),
  step: word.optional(),
  since: z.enum(SINCE_KEYS).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  q: z.string().trim().min(1).max(200).optional(),
});
export type SagaListParams = z.infer<typeof SagaListParamsSchema>;

export function filterFromParams(p: SagaListParams): SagaFilter {
  return SagaFilterSchema.parse({
    status: p.status,
    stuck: p.stuck ? true : undefined,
    waitingOn: p.waiting,
    sagaType: p.type,
    mode: p.mode,
    service: p.service,
    step: p.step,
    since: p.since,
    from: p.from ? new Date(p.from) : undefined,
    to: p.to ? new Date(p.to) : undefined,
    search: p.q,
  });
}

/** The absolute window a filter's range stands for at `now`. */
export function timeWindow(
  f: Pick<SagaFilter, "since" | "from" | "to">,
  now = Date.now(),
): { from?: Date; to?: Date } {
  if (f.since) return { from: new Date(now - SINCE_RANGES[f.since] * 60_000) };
  return { ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) };
}
