// Where alerts go: webhooks named in SAGASCOPE_ALERT_WEBHOOKS, each in one of three shapes:
// generic JSON, Slack's incoming-webhook payload, or the Alertmanager webhook shape (what
// Alertmanager itself sends, so receivers written for it take Sagascope's as they come).
import { z } from "zod";

export const WEBHOOK_KINDS = ["generic", "slack", "alertmanager"] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

export interface Webhook {
  name: string;
  kind: WebhookKind;
  url: string;
}

/** `name=kind:url`, separated by whitespace or `;`, e.g. `ops=slack:https://hooks.slack.com/…`. */
export function parseWebhooks(spec: string): Webhook[] {
  const entries = spec
    .split(/[;\s]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length > 20) throw new Error("at most 20 webhooks");
  return entries.map((entry) => {
    const match = /^([a-z0-9][a-z0-9_-]{0,49})=(generic|slack|alertmanager):(.+)$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not name=generic|slack|alertmanager:url`);
    const [, name, kind, url] = match as unknown as [string, string, WebhookKind, string];
    const parsed = z.url({ protocol: /^https?$/ }).safeParse(url);
    if (!parsed.success) throw new Error(`"${entry}": not an http(s) URL`);
    return { name, kind, url };
  });
}

export interface AlertNotice {
  event: "firing" | "resolved";
  ruleId: string;
  kind: string;
  severity: string;
  subject: string;
  summary: string;
  value: number | null;
  startsAt: Date;
  endsAt: Date | null;
  /** The dashboard page behind it, absolute when the dashboard's URL is known. */
  url: string;
}

export function payloadFor(kind: WebhookKind, n: AlertNotice, receiver: string): unknown {
  if (kind === "slack") {
    const icon =
      n.event === "firing"
        ? n.severity === "critical"
          ? ":red_circle:"
          : ":warning:"
        : ":white_check_mark:";
    const text = `${icon} *${n.event === "firing" ? "FIRING" : "RESOLVED"}* [${n.severity}] ${n.ruleId}: ${n.summary}`;
    return { text: `${text}\n<${n.url}|Open in Sagascope>` };
  }
  const labels = { alertname: n.ruleId, kind: n.kind, severity: n.severity, subject: n.subject };
  if (kind === "alertmanager") {
    const alert = {
      status: n.event,
      labels,
      annotations: { summary: n.summary },
      startsAt: n.startsAt.toISOString(),
      endsAt: n.endsAt?.toISOString() ?? "0001-01-01T00:00:00Z",
      generatorURL: n.url,
      fingerprint: fingerprint(`${n.ruleId}\n${n.subject}`),
    };
    return {
      version: "4",
      groupKey: `{}:{alertname="${n.ruleId}"}`,
      truncatedAlerts: 0,
      status: n.event,
      receiver,
      groupLabels: { alertname: n.ruleId },
      commonLabels: labels,
      commonAnnotations: alert.annotations,
      externalURL: new URL(n.url).origin,
      alerts: [alert],
    };
  }
  return {
    status: n.event,
    rule: n.ruleId,
    kind: n.kind,
    severity: n.severity,
    subject: n.subject,
    summary: n.summary,
    value: n.value,
    startsAt: n.startsAt.toISOString(),
    endsAt: n.endsAt?.toISOString() ?? null,
    url: n.url,
  };
}

/** 16 hex digits, stable for a rule and subject (FNV-1a, as Alertmanager's fingerprints are opaque ids). */
function fingerprint(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(text)) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}
