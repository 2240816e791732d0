"use client";
// Alerts: what fires now (each leading to the page behind it), what resolved in the last day,
// the rules (silenced by operators, defined and deleted by admins), and the newest webhook
// deliveries with their attempts. Refreshed every two seconds.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import { DefineAlertRule } from "./define-alert-rule.tsx";

function describeParams(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k} ${v}`);
  return parts.length > 0 ? parts.join(", ") : "every subject";
}

function RuleButtons({ id, origin, silenced }: { id: string; origin: string; silenced: boolean }) {
  const trpc = useTRPC();
  const can = useCan();
  const send = useRefreshingMutation(trpc.alerts.rule.mutationOptions(), trpc.alerts.pathKey());
  const status = useActionStatus(send.data);
  const { key, reset } = useIntentKey();
  const act = (input: Parameters<typeof send.mutate>[0]) => {
    send.mutate(input);
    reset();
  };
  return (
    <div className="action-bar">
      {can("alerts.silence") &&
        (silenced ? (
          <button type="button" onClick={() => act({ op: "silence", id, minutes: 0, idempotencyKey: key })}>
            Unsilence
          </button>
        ) : (
          <button type="button" onClick={() => act({ op: "silence", id, minutes: 60, idempotencyKey: key })}>
            Silence 1 h
          </button>
        ))}
      {can("alerts.configure") && origin === "dashboard" && (
        <button type="button" onClick={() => act({ op: "delete", id, idempotencyKey: key })}>
          Delete
        </button>
      )}
      <ActionResult status={status} error={send.error?.message} />
    </div>
  );
}

export function AlertsView() {
  const trpc = useTRPC();
  const overview = useQuery(trpc.alerts.overview.queryOptions(undefined, { refetchInterval: 2000 }));
  const now = Date.now();
  if (overview.isError)
    return <ErrorPanel title="The alerts could not be loaded" message={overview.error.message} />;
  if (!overview.data) return <p className="muted">Loading…</p>;
  const { rules, alerts, deliveries } = overview.data;
  const active = alerts.filter((a) => a.state !== "resolved");
  const resolved = alerts.filter((a) => a.state === "resolved");
  return (
    <section>
      <div className="toolbar">
        <h1>Alerts</h1>
      </div>
      <p className="muted">
        Rules are evaluated every few seconds by one ingester; an alert fires once its condition has held for
        the rule's time and resolves once it has been gone for its hold time, each said once to every webhook
        (docs/monitoring/README.md).
      </p>
      <h2>Firing and pending</h2>
      {active.length === 0 ? (
        <p className="muted" data-testid="no-alerts">
          Nothing fires.
        </p>
      ) : (
        <table className="grid" data-testid="active-alerts">
          <thead>
            <tr>
              <th>Severity</th>
              <th>Rule</th>
              <th>Subject</th>
              <th>State</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {active.map((a) => (
              <tr
                key={`${a.ruleId}/${a.subject}`}
                data-alert={`${a.ruleId}/${a.subject}`}
                data-state={a.state}
              >
                <td className={a.severity === "critical" ? "fail" : ""}>{a.severity}</td>
                <td className="mono small">{a.ruleId}</td>
                <td>
                  <Link href={a.path}>{a.subject}</Link>
                </td>
                <td>{a.state}</td>
                <td title={formatTime(a.firedAt ?? a.since)}>{formatAge(a.firedAt ?? a.since, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {resolved.length > 0 && (
        <>
          <h2>Resolved in the last day</h2>
          <table className="grid" data-testid="resolved-alerts">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Subject</th>
                <th>Fired</th>
                <th>Resolved</th>
              </tr>
            </thead>
            <tbody>
              {resolved.map((a) => (
                <tr key={`${a.ruleId}/${a.subject}`} data-alert={`${a.ruleId}/${a.subject}`}>
                  <td className="mono small">{a.ruleId}</td>
                  <td>
                    <Link href={a.path}>{a.subject}</Link>
                  </td>
                  <td>{a.firedAt ? formatTime(a.firedAt) : "—"}</td>
                  <td>{a.resolvedAt ? formatTime(a.resolvedAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Rules</h2>
      {rules.length === 0 ? (
        <p className="muted">
          No rule yet: define one below, or list them in the alerts file (SAGASCOPE_ALERT_RULES_FILE).
        </p>
      ) : (
        <table className="grid" data-testid="alert-rules">
          <thead>
            <tr>
              <th>Rule</th>
              <th>Watches</th>
              <th>Severity</th>
              <th>For / hold</th>
              <th>From</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.map(({ rule, origin, silencedUntil }) => {
              const silenced = silencedUntil !== null && silencedUntil.getTime() > now;
              return (
                <tr key={rule.id} data-rule={rule.id}>
                  <td className="mono small">{rule.id}</td>
                  <td>
                    {rule.kind.replaceAll("_", " ")}
                    <span className="muted small">
                      {" "}
                      · {describeParams(rule.params as Record<string, unknown>)}
                    </span>
                  </td>
                  <td>{rule.severity}</td>
                  <td>
                    {rule.forSeconds} s / {rule.holdSeconds} s
                  </td>
                  <td>
                    {origin === "file" ? "alerts file" : "dashboard"}
                    {silenced && silencedUntil ? (
                      <span className="muted small"> · silenced until {formatTime(silencedUntil)}</span>
                    ) : null}
                  </td>
                  <td>
                    <RuleButtons id={rule.id} origin={origin} silenced={silenced} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <DefineAlertRule />
      <h2>Deliveries</h2>
      {deliveries.length === 0 ? (
        <p className="muted">Nothing sent yet (webhooks: SAGASCOPE_ALERT_WEBHOOKS).</p>
      ) : (
        <table className="grid" data-testid="alert-deliveries">
          <thead>
            <tr>
              <th>When</th>
              <th>Alert</th>
              <th>Webhook</th>
              <th>Status</th>
              <th>Attempts</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr
                key={d.id}
                data-delivery={`${d.ruleId}/${d.subject}/${d.event}/${d.receiver}`}
                data-status={d.status}
              >
                <td title={formatTime(d.createdAt)}>{formatAge(d.createdAt, now)}</td>
                <td>
                  {d.event} · <span className="mono small">{d.ruleId}</span> · {d.subject}
                </td>
                <td>{d.receiver}</td>
                <td className={d.status === "failed" ? "fail" : ""}>
                  {d.status}
                  {d.lastError ? <span className="muted small"> · {d.lastError}</span> : null}
                </td>
                <td>{d.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
