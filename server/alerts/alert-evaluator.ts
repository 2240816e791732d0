// Evaluates the alert rules every few seconds and delivers what they say to the webhooks. One
// process evaluates at a time, however many run it: the one holding a Postgres advisory lock
// (held by a connection of its own, so a process that dies lets another take over at once).
// A state change and its deliveries are written in one transaction; deliveries are then sent,
// and retried with backoff (1 s, 2 s, 4 s… at most 5 min apart, 8 attempts) until the receiver
// takes them, each attempt recorded.
import pg from "pg";
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import type { Logger } from "../log.ts";
import { createPeriodic } from "../periodic.ts";
import { type AlertState, nextAlertState } from "./alert-machine.ts";
import { loadRules } from "./alert-rules.ts";
import { type ConditionSources, type Observation, observe } from "./observe-conditions.ts";
import { payloadFor, type Webhook } from "./webhooks.ts";

export const MAX_DELIVERY_ATTEMPTS = 8;
const LOCK = [7305, 1] as const;
const SEND_TIMEOUT_MS = 5000;

export interface AlertEvaluator {
  start(): void;
  stop(): Promise<void>;
  /** One round now (tests): evaluate if leader, then send what is due. */
  tick(now?: Date): Promise<{ leader: boolean }>;
}

interface StateRow {
  subject: string;
  state: AlertState["state"];
  since: Date;
  fired_at: Date | null;
  last_true_at: Date;
  resolved_at: Date | null;
  value: number | null;
}

const backoffMs = (attempts: number) => Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));

export function createAlertEvaluator(deps: {
  sources: ConditionSources & { pool: Pool };
  /** For the leadership lock's own connection. */
  databaseUrl: string;
  webhooks: Webhook[];
  /** The dashboard's address, for the alerts' links. */
  dashboardUrl: string;
  everyMs: number;
  log: Logger;
}): AlertEvaluator {
  const { pool } = deps.sources;
  // The lock is held on a connection of its own, outside the process's pool: held for as long
  // as the process leads, it must not take a connection the ingest path needs.
  let lockHolder: pg.Client | undefined;

  async function lead(): Promise<boolean> {
    if (lockHolder) return true;
    const client = new pg.Client({ connectionString: deps.databaseUrl });
    // A lost connection loses the lock: lead again only after taking it anew.
    client.on("error", () => {
      if (lockHolder === client) lockHolder = undefined;
    });
    await client.connect();
    const { rows } = await client
      .query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [...LOCK])
      .catch(async (error) => {
        await client.end().catch(() => {});
        throw error;
      });
    if (rows[0]?.ok) {
      lockHolder = client;
      deps.log.info("evaluating alert rules (this process holds the lock)");
      return true;
    }
    await client.end().catch(() => {});
    return false;
  }

  async function evaluate(now: Date): Promise<void> {
    for (const { rule, silencedUntil } of await loadRules(pool)) {
      let observed: Observation[];
      try {
        observed = await observe(rule, deps.sources, now.getTime());
      } catch (error) {
        deps.log.warn("alert rule not evaluated", { rule: rule.id, error: String(error) });
        continue;
      }
      const { rows } = await pool.query<StateRow>(
        "SELECT subject, state, since, fired_at, last_true_at, resolved_at, value FROM alert_state WHERE rule_id = $1",
        [rule.id],
      );
      const previous = new Map(rows.map((r) => [r.subject, r]));
      const byObserved = new Map(observed.map((o) => [o.subject, o]));
      const subjects = new Set([
        ...byObserved.keys(),
        ...rows.filter((r) => r.state !== "resolved").map((r) => r.subject),
      ]);
      const silenced = silencedUntil !== null && silencedUntil.getTime() > now.getTime();
      for (const subject of subjects) {
        const before = previous.get(subject);
        const seen = byObserved.get(subject) ?? null;
        const prev: AlertState | undefined = before && {
          state: before.state,
          since: before.since,
          firedAt: before.fired_at,
          lastTrueAt: before.last_true_at,
          resolvedAt: before.resolved_at,
          value: before.value,
        };
        const { state, event } = nextAlertState(prev, seen, now, rule);
        await withTransaction(pool, async (client) => {
          if (!state)
            await client.query("DELETE FROM alert_state WHERE rule_id = $1 AND subject = $2", [
              rule.id,
              subject,
            ]);
          else
            await client.query(
              `INSERT INTO alert_state (rule_id, subject, state, value, since, fired_at, last_true_at, resolved_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (rule_id, subject) DO UPDATE SET state = excluded.state, value = excluded.value,
                 since = excluded.since, fired_at = excluded.fired_at, last_true_at = excluded.last_true_at,
                 resolved_at = excluded.resolved_at`,
              [
                rule.id,
                subject,
                state.state,
                state.value,
                state.since,
                state.firedAt,
                state.lastTrueAt,
                state.resolvedAt,
              ],
            );
          if (!event || !state || silenced) return;
          const notice = {
            event,
            ruleId: rule.id,
            kind: rule.kind,
            severity: rule.severity,
            subject,
            summary: seen?.summary ?? `${rule.kind.replaceAll("_", " ")}: ${subject} is fine again`,
            value: state.value,
            startsAt: state.firedAt ?? state.since,
            endsAt: event === "resolved" ? now : null,
            url: new URL(seen?.path ?? "/alerts", deps.dashboardUrl).toString(),
          };
          for (const w of deps.webhooks)
            await client.query(
              "INSERT INTO alert_delivery (rule_id, subject, event, receiver, payload, status) VALUES ($1, $2, $3, $4, $5, 'pending')",
              [rule.id, subject, event, w.name, JSON.stringify(payloadFor(w.kind, notice, w.name))],
            );
        });
      }
    }
  }

  async function send(): Promise<void> {
    const { rows } = await pool.query<{ id: string; receiver: string; payload: unknown; attempts: number }>(
      `SELECT id::text, receiver, payload, attempts FROM alert_delivery
       WHERE status = 'pending' AND next_attempt_at <= now() ORDER BY id LIMIT 50`,
    );
    for (const d of rows) {
      const webhook = deps.webhooks.find((w) => w.name === d.receiver);
      let status: number | null = null;
      let error: string | null = null;
      if (!webhook) error = `no webhook named ${d.receiver} is configured now`;
      else
        try {
          const response = await fetch(webhook.url, {
            method: "POST",
            headers: { "content-type": "application/json", "user-agent": "sagascope-alerts" },
            body: JSON.stringify(d.payload),
            signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
          });
          status = response.status;
          if (!response.ok) error = `HTTP ${response.status}`;
        } catch (e) {
          error = e instanceof Error ? e.message : String(e);
        }
      const attempts = d.attempts + 1;
      if (!error)
        await pool.query(
          "UPDATE alert_delivery SET status = 'sent', attempts = $2, last_status = $3, last_error = NULL, sent_at = now() WHERE id = $1",
          [d.id, attempts, status],
        );
      else {
        const giveUp = !webhook || attempts >= MAX_DELIVERY_ATTEMPTS;
        await pool.query(
          `UPDATE alert_delivery SET status = $2, attempts = $3, last_status = $4, last_error = $5,
             next_attempt_at = now() + make_interval(secs => $6::double precision / 1000) WHERE id = $1`,
          [d.id, giveUp ? "failed" : "pending", attempts, status, error.slice(0, 500), backoffMs(attempts)],
        );
        deps.log.warn(giveUp ? "alert delivery given up" : "alert delivery failed; will retry", {
          receiver: d.receiver,
          attempts,
          error,
        });
      }
    }
  }

  async function tick(now = new Date()): Promise<{ leader: boolean }> {
    const leader = await lead();
    if (leader) {
      await evaluate(now);
      await send();
    }
    return { leader };
  }

  const rounds = createPeriodic(deps.everyMs, tick, (error) => {
    deps.log.warn("alert round failed", { error: String(error) });
    void lockHolder?.end().catch(() => {});
    lockHolder = undefined;
  });

  return {
    start: rounds.start,
    async stop() {
      await rounds.stop();
      if (lockHolder) {
        await lockHolder.query("SELECT pg_advisory_unlock($1, $2)", [...LOCK]).catch(() => {});
        await lockHolder.end().catch(() => {});
        lockHolder = undefined;
      }
    },
    tick,
  };
}
