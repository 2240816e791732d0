"use client";
// An action's state as the operator sees it: pending (sent, waiting for the owner), then
// done, refused or failed with the owner's words.
import type { ActionStatus } from "@/server/actions/perform-action.ts";

const LABEL: Record<string, string> = {
  requested: "sending…",
  pending: "pending",
  done: "done",
  refused: "refused",
  failed: "failed",
  denied: "not allowed",
};

export function ActionResult({
  status,
  error,
}: {
  status: ActionStatus | undefined;
  error?: string | undefined;
}) {
  if (error)
    return (
      <p className="action-result" data-phase="error" role="alert">
        <strong className="fail">failed</strong> · {error}
      </p>
    );
  if (!status) return null;
  const bad = status.phase === "refused" || status.phase === "failed" || status.phase === "denied";
  return (
    <p
      className="action-result"
      data-phase={status.phase}
      data-action-id={status.actionId}
      data-testid="action-result"
      role="status"
    >
      <strong className={bad ? "fail" : status.phase === "done" ? "ok" : ""}>{LABEL[status.phase]}</strong> ·{" "}
      {status.action} · {status.message || "sent"}
      {status.replayed && <span className="muted"> (the same request was sent before; it acted once)</span>}
    </p>
  );
}
