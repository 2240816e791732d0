// The alerts page's data: every rule (with what is firing for it), the alerts firing or
// pending now and those resolved in the last day, and the newest deliveries with their fate.
import type { Pool } from "../db/pool.ts";
import { type AlertRule, loadRules } from "./alert-rules.ts";

export interface AlertRuleView {
  rule: AlertRule;
  origin: "file" | "dashboard";
  silencedUntil: Date | null;
}

export interface AlertView {
  ruleId: string;
  kind: string;
  severity: string;
  subject: string;
  state: "pending" | "firing" | "resolving" | "resolved";
  value: number | null;
  since: Date;
  firedAt: Date | null;
  resolvedAt: Date | null;
  /** The page behind it. */
  path: string;
}

export interface DeliveryView {
  id: string;
  ruleId: string;
  subject: string;
  event: string;
  receiver: string;
  status: string;
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
  createdAt: Date;
  sentAt: Date | null;
}

/** The page behind an alert's subject. */
export function alertPath(kind: string, subject: string): string {
  const q = encodeURIComponent(subject);
  switch (kind) {
    case "stuck_sagas":
      return `/sagas?type=${q}&stuck=1`;
    case "breaker_open":
      return `/breakers?pair=${q}`;
    case "projection_lag":
      return `/projections?projection=${q}`;
    case "consumer_lag":
      return `/kafka?group=${q}`;
    case "dead_letters":
      return "/dead-letters?state=open";
    default:
      return `/sagas?type=${q}&status=compensated`;
  }
}

export async function readAlerts(db: Pick<Pool, "query">) {
  const [rules, origins, states, deliveries] = await Promise.all([
    loadRules(db),
    db.query<{ id: string; origin: "file" | "dashboard" }>("SELECT id, origin FROM alert_rule"),
    db.query<{
      rule_id: string;
      kind: string;
      severity: string;
      subject: string;
      state: AlertView["state"];
      value: number | null;
      since: Date;
      fired_at: Date | null;
      resolved_at: Date | null;
    }>(
      `SELECT s.rule_id, r.kind, r.severity, s.subject, s.state, s.value, s.since, s.fired_at, s.resolved_at
       FROM alert_state s JOIN alert_rule r ON r.id = s.rule_id
       WHERE s.state <> 'resolved' OR s.resolved_at > now() - interval '1 day'
       ORDER BY (s.state = 'resolved'), coalesce(s.fired_at, s.since) DESC LIMIT 200`,
    ),
    db.query<{
      id: string;
      rule_id: string;
      subject: string;
      event: string;
      receiver: string;
      status: string;
      attempts: number;
      last_error: string | null;
      last_status: number | null;
      created_at: Date;
      sent_at: Date | null;
    }>(
      `SELECT id::text, rule_id, subject, event, receiver, status, attempts, last_error, last_status, created_at, sent_at
       FROM alert_delivery ORDER BY id DESC LIMIT 50`,
    ),
  ]);
  const originOf = new Map(origins.rows.map((r) => [r.id, r.origin]));
  return {
    rules: rules.map(
      (r): AlertRuleView => ({
        rule: r.rule,
        origin: originOf.get(r.rule.id) ?? "file",
        silencedUntil: r.silencedUntil,
      }),
    ),
    alerts: states.rows.map(
      (s): AlertView => ({
        ruleId: s.rule_id,
        kind: s.kind,
        severity: s.severity,
        subject: s.subject,
        state: s.state,
        value: s.value,
        since: s.since,
        firedAt: s.fired_at,
        resolvedAt: s.resolved_at,
        path: alertPath(s.kind, s.subject),
      }),
    ),
    deliveries: deliveries.rows.map(
      (d): DeliveryView => ({
        id: d.id,
        ruleId: d.rule_id,
        subject: d.subject,
        event: d.event,
        receiver: d.receiver,
        status: d.status,
        attempts: d.attempts,
        lastError: d.last_error,
        lastStatus: d.last_status,
        createdAt: d.created_at,
        sentAt: d.sent_at,
      }),
    ),
  };
}
