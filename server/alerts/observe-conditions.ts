// What each rule sees now: one observation per subject that is in trouble (a saga type with
// stuck sagas, an open pair, a lagging projection…). A subject absent from the answer is
// fine now. Each observation carries the page behind it, for the alert's link.
import type { BreakerStore } from "../breakers/index.ts";
import { listBreakers } from "../dashboard/breakers/list-breakers.ts";
import { type KafkaTarget, readKafka } from "../dashboard/kafka/read-kafka.ts";
import { listProjections } from "../dashboard/projections/projection-list.ts";
import type { Pool } from "../db/pool.ts";
import type { PrismaClient } from "../db/prisma.ts";
import type { AlertRule } from "./alert-rules.ts";
import { alertPath } from "./read-alerts.ts";

export interface Observation {
  subject: string;
  value: number;
  /** What it means, in words: "3 interbank-transfer sagas stuck". */
  summary: string;
  /** The dashboard's page behind it (a path). */
  path: string;
}

export interface ConditionSources {
  pool: Pick<Pool, "query">;
  prisma: PrismaClient;
  breakerStore: BreakerStore;
  /** The cluster and this deployment's names, for consumer group lag. */
  kafka: KafkaTarget;
}

export async function observe(
  rule: AlertRule,
  s: ConditionSources,
  now = Date.now(),
): Promise<Observation[]> {
  switch (rule.kind) {
    case "stuck_sagas": {
      const { rows } = await s.pool.query<{ saga_type: string; n: number }>(
        `SELECT saga_type, count(*)::int AS n FROM saga_summary
         WHERE stuck AND ($1::text IS NULL OR saga_type = $1) GROUP BY 1 HAVING count(*) >= $2`,
        [rule.params.sagaType ?? null, rule.params.atLeast],
      );
      return rows.map((r) => ({
        subject: r.saga_type,
        value: r.n,
        summary: `${r.n} ${r.saga_type} saga${r.n === 1 ? "" : "s"} stuck`,
        path: alertPath(rule.kind, r.saga_type),
      }));
    }
    case "breaker_open": {
      const breakers = await listBreakers(s.breakerStore, s, now);
      return breakers
        .filter(
          (b) =>
            (!rule.params.pair || b.pair === rule.params.pair) && (b.forced !== null || b.state !== "closed"),
        )
        .map((b) => ({
          subject: b.pair,
          value: 1,
          summary: b.forced
            ? `breaker ${b.pair} forced ${b.forced}`
            : `breaker ${b.pair} ${b.state.replace("_", "-")}`,
          path: alertPath(rule.kind, b.pair),
        }));
    }
    case "projection_lag": {
      const projections = await listProjections(s.pool);
      return projections
        .filter(
          (p) =>
            (!rule.params.projection || p.name === rule.params.projection) &&
            // Caught up is not behind, however long ago the last change occurred (an idle source).
            p.offsetLag > 0 &&
            p.timeLagMs !== null &&
            p.timeLagMs / 1000 > rule.params.seconds,
        )
        .map((p) => ({
          subject: p.name,
          value: (p.timeLagMs as number) / 1000,
          summary: `projection ${p.name} ${Math.round((p.timeLagMs as number) / 1000)} s behind`,
          path: alertPath(rule.kind, p.name),
        }));
    }
    case "consumer_lag": {
      // An unreachable cluster fails this round (the evaluator logs it); the alert keeps its state.
      const { groups } = await readKafka(s.kafka, { deadlineMs: 4000 });
      return groups
        .filter(
          (g) =>
            (!rule.params.group || g.groupId === rule.params.group) && g.totalLag >= rule.params.messages,
        )
        .map((g) => ({
          subject: g.groupId,
          value: g.totalLag,
          summary: `consumer group ${g.groupId} is ${g.totalLag} message${g.totalLag === 1 ? "" : "s"} behind`,
          path: alertPath(rule.kind, g.groupId),
        }));
    }
    case "dead_letters": {
      const { rows } = await s.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM dead_letter WHERE received_at > $1",
        [new Date(now - rule.params.windowSeconds * 1000)],
      );
      const n = rows[0]?.n ?? 0;
      return n >= rule.params.atLeast
        ? [
            {
              subject: "dead letters",
              value: n,
              summary: `${n} message${n === 1 ? "" : "s"} quarantined in the last ${rule.params.windowSeconds} s`,
              path: alertPath(rule.kind, "dead letters"),
            },
          ]
        : [];
    }
    case "saga_failure_rate": {
      const { rows } = await s.pool.query<{ saga_type: string; ended: number; bad: number }>(
        `SELECT saga_type, count(*)::int AS ended,
                (count(*) FILTER (WHERE status IN ('compensated', 'failed')))::int AS bad
         FROM saga_summary WHERE ended_at > $1 AND ($2::text IS NULL OR saga_type = $2) GROUP BY 1`,
        [new Date(now - rule.params.windowSeconds * 1000), rule.params.sagaType ?? null],
      );
      return rows
        .filter((r) => r.ended >= rule.params.minimumSagas && r.bad / r.ended >= rule.params.rate)
        .map((r) => ({
          subject: r.saga_type,
          value: r.bad / r.ended,
          summary: `${Math.round((100 * r.bad) / r.ended)}% of ${r.saga_type} sagas compensated or failed (${r.bad} of ${r.ended})`,
          path: alertPath(rule.kind, r.saga_type),
        }));
    }
  }
}
