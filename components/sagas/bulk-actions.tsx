"use client";
// One action for every saga of the filtered list (e.g. compensate all stuck checkouts): a
// preview says how many sagas match and, of the first ones, which would get the command and
// which are skipped and why; confirming starts a background operation (its progress, suspend,
// resume and cancel are on the operations page). Refused if the count changed since the preview.
import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { useIntentKey } from "@/components/actions/use-action.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";

type BulkAction = "compensate" | "retry-step" | "mark-resolved" | "pause" | "resume";
const LABELS: Record<BulkAction, string> = {
  compensate: "Compensate",
  "retry-step": "Retry the failed step",
  "mark-resolved": "Mark resolved",
  pause: "Pause",
  resume: "Resume",
};

function Preview({ query, action }: { query: string; action: BulkAction }) {
  const trpc = useTRPC();
  const preview = useQuery(trpc.operations.preview.queryOptions({ query, action }));
  if (preview.isPending) return <p className="muted">Counting…</p>;
  if (preview.isError) return <p className="inline-error">{preview.error.message}</p>;
  const p = preview.data;
  return (
    <div data-testid="bulk-preview" data-matching={p.matching} data-eligible={p.eligible}>
      {p.overCap ? (
        <p className="inline-error">
          More than {p.cap} sagas match: narrow the filter (one operation works through {p.cap} at most).
        </p>
      ) : (
        <p>
          <strong>{p.matching}</strong> matching sagas, worked through in the background at {p.rate} a second
          at most. Of the first {p.judged}, <strong>{p.eligible}</strong> would get the command now; each is
          judged again when its turn comes.
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

export function BulkActions({ query }: { query: string }) {
  const trpc = useTRPC();
  const can = useCan();
  const [action, setAction] = useState<BulkAction | null>(null);
  const { key, reset } = useIntentKey();
  const preview = useQuery({
    ...trpc.operations.preview.queryOptions({ query, action: action ?? "compensate" }),
    enabled: action !== null,
  });
  const start = useMutation(trpc.operations.start.mutationOptions());
  if (!can("saga.act")) return null;
  const close = () => {
    setAction(null);
    reset();
  };
  const p = preview.data;
  // Every matching saga judged and none would get the command: nothing to start.
  const matching = p && !p.overCap && !(p.judged === p.matching && p.eligible === 0) ? p.matching : 0;
  const started = start.data?.phase === "done" ? start.data.target.replace(/^operation /, "") : undefined;
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
      {start.data || start.error ? <ActionResult status={start.data} error={start.error?.message} /> : null}
      {started && (
        <Link href={`/operations?id=${started}`} data-testid="operation-link">
          Follow the operation
        </Link>
      )}
      {action && (
        <ConfirmDialog
          title={`${LABELS[action]}: every saga of this list`}
          confirmLabel={matching ? `${LABELS[action]} ${matching} sagas` : "Nothing to do"}
          reason={action === "mark-resolved" ? "required" : "optional"}
          busy={start.isPending}
          disabled={!matching}
          onCancel={close}
          onConfirm={(reason) => {
            start.mutate({
              query,
              action,
              expectedCount: matching,
              ...(reason ? { reason } : {}),
              idempotencyKey: key,
            });
            close();
          }}
        >
          <Preview query={query} action={action} />
        </ConfirmDialog>
      )}
    </>
  );
}
