// The breaker decisions that touched a saga: the calls its breakers refused (steps that
// failed with the breaker's code) and the transitions of breakers in front of its services
// while it ran, so that "why did this compensate?" has its answer on the saga's page.
import { BREAKER_OPEN_CODE } from "../../breakers/rejection-policy.ts";
import type { Pool } from "../../db/pool.ts";
import type { SagaEventOutline, SagaListItem } from "./saga-dto.ts";

export interface BreakerRejection {
  eventId: string;
  time: Date;
  step: string | null;
  service: string | null;
  message: string;
}

export interface BreakerTransitionSeen {
  time: Date;
  pair: string;
  from: string;
  to: string;
  forced: string | null;
  reason: string;
}

export interface SagaBreakerDecisions {
  rejections: BreakerRejection[];
  transitions: BreakerTransitionSeen[];
}

/** How far before a saga's start a transition still explains what the saga met. */
const LEAD_MS = 60_000;

export function breakerRejections(events: SagaEventOutline[]): BreakerRejection[] {
  return events.flatMap((e) => {
    const error = (e.data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (error?.code !== BREAKER_OPEN_CODE) return [];
    return [
      { eventId: e.id, time: e.time, step: e.step, service: e.service, message: String(error.message) },
    ];
  });
}

export async function sagaBreakerDecisions(
  pool: Pick<Pool, "query">,
  summary: Pick<SagaListItem, "services" | "startedAt" | "endedAt" | "lastProgressAt">,
  rejections: BreakerRejection[],
  now = Date.now(),
): Promise<SagaBreakerDecisions> {
  if (summary.services.length === 0) return { rejections, transitions: [] };
  const { rows } = await pool.query<BreakerTransitionSeen>(
    `SELECT time, pair, from_state AS "from", to_state AS "to", forced, reason
     FROM breaker_transition
     WHERE callee = ANY($1::text[]) AND time >= $2 AND time <= $3
     ORDER BY time LIMIT 50`,
    [
      summary.services,
      new Date(summary.startedAt.getTime() - LEAD_MS),
      // A running saga: up to now (or its last event, when producers' clocks run ahead).
      summary.endedAt ?? new Date(Math.max(now, summary.lastProgressAt.getTime())),
    ],
  );
  return { rejections, transitions: rows };
}
