"use client";
// An admin defines an alert rule (or changes one defined here): what it watches, its
// threshold, how long it must hold before it fires and be gone before it resolves, and its
// severity. The server checks it (field by field) and audits it; others see no form.
import { type FormEvent, useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";

const KINDS = {
  stuck_sagas: { label: "stuck sagas", subject: "saga type", threshold: "at least (sagas)", window: false },
  breaker_open: { label: "breaker open or forced", subject: "pair", threshold: null, window: false },
  projection_lag: {
    label: "projection lag",
    subject: "projection",
    threshold: "more than (seconds)",
    window: false,
  },
  consumer_lag: {
    label: "consumer group lag",
    subject: "consumer group",
    threshold: "at least (messages behind)",
    window: false,
  },
  dead_letters: {
    label: "dead letters growing",
    subject: null,
    threshold: "at least (new letters)",
    window: true,
  },
  saga_failure_rate: {
    label: "saga failure rate",
    subject: "saga type",
    threshold: "at least (% compensated or failed)",
    window: true,
  },
} as const;
type Kind = keyof typeof KINDS;

function paramsOf(
  kind: Kind,
  f: { subject: string; threshold: string; window: string },
): Record<string, unknown> {
  const n = (text: string) => (text.trim() === "" ? undefined : Number(text));
  const subject = f.subject.trim() || undefined;
  const windowSeconds = n(f.window);
  switch (kind) {
    case "stuck_sagas":
      return { sagaType: subject, atLeast: n(f.threshold) };
    case "breaker_open":
      return { pair: subject };
    case "projection_lag":
      return { projection: subject, seconds: n(f.threshold) };
    case "consumer_lag":
      return { group: subject, messages: n(f.threshold) };
    case "dead_letters":
      return { atLeast: n(f.threshold), windowSeconds };
    case "saga_failure_rate": {
      const percent = n(f.threshold);
      return { sagaType: subject, rate: percent === undefined ? undefined : percent / 100, windowSeconds };
    }
  }
}

export function DefineAlertRule() {
  const trpc = useTRPC();
  const can = useCan();
  const send = useRefreshingMutation(trpc.alerts.rule.mutationOptions(), trpc.alerts.pathKey());
  const status = useActionStatus(send.data);
  const { key, reset } = useIntentKey();
  const [form, setForm] = useState({
    id: "",
    kind: "breaker_open" as Kind,
    severity: "warning" as "info" | "warning" | "critical",
    forSeconds: "0",
    holdSeconds: "60",
    subject: "",
    threshold: "",
    window: "",
  });
  if (!can("alerts.configure")) return null;
  const k = KINDS[form.kind];
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    send.mutate({
      op: "define",
      rule: {
        id: form.id.trim(),
        kind: form.kind,
        severity: form.severity,
        forSeconds: Number(form.forSeconds),
        holdSeconds: Number(form.holdSeconds),
        params: JSON.parse(JSON.stringify(paramsOf(form.kind, form))),
      } as never,
      idempotencyKey: key,
    });
    reset();
  }

  return (
    <details className="panel" data-testid="define-alert-rule">
      <summary>Define an alert rule</summary>
      <form onSubmit={submit} className="toolbar">
        <label>
          Id <input value={form.id} onChange={set("id")} placeholder="ledger-breaker" required />
        </label>
        <label>
          Watches{" "}
          <select value={form.kind} onChange={set("kind")}>
            {(Object.keys(KINDS) as Kind[]).map((kind) => (
              <option key={kind} value={kind}>
                {KINDS[kind].label}
              </option>
            ))}
          </select>
        </label>
        {k.subject && (
          <label>
            Only this {k.subject}{" "}
            <input value={form.subject} onChange={set("subject")} placeholder="(every one)" />
          </label>
        )}
        {k.threshold && (
          <label>
            {k.threshold}{" "}
            <input value={form.threshold} onChange={set("threshold")} size={6} inputMode="decimal" />
          </label>
        )}
        {k.window && (
          <label>
            Window (s) <input value={form.window} onChange={set("window")} size={6} inputMode="numeric" />
          </label>
        )}
        <label>
          Fires after (s){" "}
          <input value={form.forSeconds} onChange={set("forSeconds")} size={5} inputMode="numeric" />
        </label>
        <label>
          Resolves after (s){" "}
          <input value={form.holdSeconds} onChange={set("holdSeconds")} size={5} inputMode="numeric" />
        </label>
        <label>
          Severity{" "}
          <select value={form.severity} onChange={set("severity")}>
            <option value="info">info</option>
            <option value="warning">warning</option>
            <option value="critical">critical</option>
          </select>
        </label>
        <button type="submit" disabled={send.isPending}>
          Define
        </button>
      </form>
      <ActionResult status={status} error={send.error?.message} />
    </details>
  );
}
