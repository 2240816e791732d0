"use client";
// What an operator can do to one pair's breaker: force it open or closed (for a while or until
// cleared, with an optional reason), clear the override, reset its counters. Each is confirmed,
// sent once (one idempotency key per intent) and answered with the server's words; a role that
// may not override breakers sees none of it (the server refuses it anyway).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useActionStatus, useIntentKey } from "@/components/actions/use-action.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import type { BreakerOverride } from "@/server/actions/breaker-actions.ts";
import type { BreakerDto } from "@/server/dashboard/breakers/list-breakers.ts";
import styles from "./breaker-actions.module.css";
import { stateLabel } from "./breaker-format.ts";

type Op = BreakerOverride["op"];

const LABELS: Record<Op, string> = {
  "force-open": "Force open",
  "force-closed": "Force closed",
  clear: "Clear override",
  reset: "Reset counters",
};

const CONFIRM: Record<Op, string> = {
  "force-open": "Force open",
  "force-closed": "Force closed",
  clear: "Clear",
  reset: "Reset",
};

/** How long a forced state lasts: minutes, or until an operator clears it. */
const DURATIONS = [
  { key: "5", label: "5 min", minutes: 5 },
  { key: "15", label: "15 min", minutes: 15 },
  { key: "60", label: "1 h", minutes: 60 },
  { key: "cleared", label: "until cleared", minutes: undefined },
] as const;
type DurationKey = (typeof DURATIONS)[number]["key"];

const forcing = (op: Op) => op === "force-open" || op === "force-closed";

export function BreakerActions({ pair, breaker }: { pair: string; breaker: BreakerDto | undefined }) {
  const trpc = useTRPC();
  const can = useCan();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Op | null>(null);
  const [duration, setDuration] = useState<DurationKey>("15");
  const { key, reset } = useIntentKey();
  const send = useMutation(
    trpc.actions.breaker.mutationOptions({
      // The page also hears the change on the breakers' channel; this makes it immediate.
      onSettled: () => void queryClient.invalidateQueries({ queryKey: trpc.breakers.list.queryKey() }),
    }),
  );
  const status = useActionStatus(send.data);

  if (!can("breaker.override")) return null;
  const close = () => {
    setOpen(null);
    reset();
  };
  // Another library's breaker keeps its own counters: there is nothing to reset from here.
  const shown: Op[] = [
    "force-open",
    "force-closed",
    ...(breaker?.forced ? (["clear"] as const) : []),
    ...(breaker?.reported ? [] : (["reset"] as const)),
  ];
  return (
    <section aria-label="Breaker actions" data-testid="breaker-actions" className={styles.actions}>
      <div className="action-bar">
        {shown.map((op) => (
          <button key={op} type="button" disabled={send.isPending} onClick={() => setOpen(op)}>
            {LABELS[op]}
          </button>
        ))}
      </div>
      <ActionResult status={status} error={send.error?.message} />
      {open && (
        <ConfirmDialog
          title={`${LABELS[open]}: ${pair}`}
          confirmLabel={CONFIRM[open]}
          reason="optional"
          busy={send.isPending}
          onCancel={close}
          onConfirm={(reason) => {
            const minutes = DURATIONS.find((d) => d.key === duration)?.minutes;
            send.mutate({
              pair,
              op: open,
              ...(forcing(open) && minutes ? { forMinutes: minutes } : {}),
              ...(reason ? { reason } : {}),
              idempotencyKey: key,
            });
            close();
          }}
        >
          <p>{explain(open, breaker)}</p>
          {forcing(open) && (
            <fieldset className={styles.durations}>
              <legend>For how long</legend>
              {DURATIONS.map((d) => (
                <label key={d.key}>
                  <input
                    type="radio"
                    name="forced-for"
                    value={d.key}
                    checked={duration === d.key}
                    onChange={() => setDuration(d.key)}
                  />{" "}
                  {d.label}
                </label>
              ))}
            </fieldset>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}

function explain(op: Op, breaker: BreakerDto | undefined): string {
  const now = breaker ? (breaker.forced ? `forced ${breaker.forced}` : stateLabel(breaker.state)) : "unknown";
  if (op === "reset") return explainOwn(op, now);
  const channel = breaker?.reported
    ? " It is sent on the control channel: the pair's callers apply it through their bridge and report it back."
    : "";
  return `${explainOwn(op, now)}${channel} (now: ${now}).`;
}

function explainOwn(op: Op, now: string): string {
  switch (op) {
    case "force-open":
      return "Every caller instance refuses every call of this pair at once, whatever its failure rate.";
    case "force-closed":
      return "Every call of this pair goes through and the breaker never opens, however the callee fails.";
    case "clear":
      return "The override ends and the breaker follows its failure rate again.";
    case "reset":
      return `The breaker forgets its window and any opening, and starts closed and fresh; an override stays (now: ${now}).`;
  }
}
