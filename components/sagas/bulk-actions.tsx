"use client";
// One action for every saga of the filtered list (e.g. compensate all stuck checkouts): a
// preview says how many and which sagas would be touched and which are skipped and why,
// capped; the action is refused if the set changed since the preview.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useIntentKey } from "@/components/actions/use-action.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import type { SagaFilter } from "@/server/dashboard/sagas/saga-filter.ts";

type BulkAction = "compensate" | "retry-step" | "mark-resolved";
const LABELS: Record<BulkAction, string> = {
  compensate: "Compensate",
  "retry-step": "Retry the failed step",
  "mark-resolved": "Mark resolved",
};

function Preview({ filter, action }: { filter: SagaFilter; action: BulkAction }) {
  const trpc = useTRPC();
  const preview = useQuery(trpc.actions.bulkPreview.queryOptions({ filter, action }));
  if (preview.isPending) return <p className="muted">Counting…</p>;
  if (preview.isError) return <p className="inline-error">{preview.error.message}</p>;
  const p = preview.data;
  return (
    <div data-testid="bulk-preview" data-eligible={p.eligible}>
      {p.overCap ? (
        <p className="inline-error">
          More than {p.cap} sagas match: narrow the filter (one bulk action touches {p.cap} at most).
        </p>
      ) : (
        <p>
          <strong>{p.eligible}</strong> of {p.matching} matching sagas will get the command.
        </p>
      )}
      {p.skipped.length > 0 && (
        <ul className="plain small">
          {p.skipped.map((s) => (
            <li key={s.reason}>
              {s.count} skipped: {s.reason}
            </li>
          ))}
        </ul>
      )}
      {p.sample.length > 0 && (
        <details>
          <summary className="small">The first {p.sample.length}</summary>
          <ul className="plain small mono">
            {p.sample.map((s) => (
              <li key={s.sagaId}>
                {s.sagaId} · {s.status} · {s.failedStep ?? s.currentStep ?? "—"}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

export function BulkActions({ filter }: { filter: SagaFilter }) {
  const trpc = useTRPC();
  const can = useCan();
  const [action, setAction] = useState<BulkAction | null>(null);
  const { key, reset } = useIntentKey();
  const preview = useQuery({
    ...trpc.actions.bulkPreview.queryOptions({ filter, action: action ?? "compensate" }),
    enabled: action !== null,
  });
  const send = useMutation(trpc.actions.bulk.mutationOptions());
  if (!can("saga.act")) return null;
  const close = () => {
    setAction(null);
    reset();
  };
  const eligible = preview.data && !preview.data.overCap ? preview.data.eligible : 0;
  return (
    <>
      <label>
        <select
          aria-label="Act on every saga of this list"
          value=""
          onChange={(e) => e.target.value && setAction(e.target.value as BulkAction)}
        >
          <option value="">Act on these sagas…</option>
          {(Object.keys(LABELS) as BulkAction[]).map((a) => (
            <option key={a} value={a}>
              {LABELS[a]}
            </option>
          ))}
        </select>
      </label>
      {send.data || send.error ? <ActionResult status={send.data} error={send.error?.message} /> : null}
      {action && (
        <ConfirmDialog
          title={`${LABELS[action]}: every saga of this list`}
          confirmLabel={eligible ? `${LABELS[action]} ${eligible} sagas` : "Nothing to do"}
          reason={action === "mark-resolved" ? "required" : "optional"}
          busy={send.isPending}
          disabled={!eligible}
          onCancel={close}
          onConfirm={(reason) => {
            send.mutate({
              filter,
              action,
              expectedCount: eligible,
              ...(reason ? { reason } : {}),
              idempotencyKey: key,
            });
            close();
          }}
        >
          <Preview filter={filter} action={action} />
        </ConfirmDialog>
      )}
    </>
  );
}
