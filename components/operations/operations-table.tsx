"use client";
// The operations page: every bulk operation, newest first, with who started it, its filter,
// its progress (sent / skipped / failed / pending of the total), the rate it reaches, and
// suspend / resume / cancel for its starter or an admin. One is opened (?id=) for the reasons
// sagas were skipped or failed and the sagas it handled last.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { newIdempotencyKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan, useMe } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatTime } from "@/components/ui/format.ts";
import type { OperationRow } from "@/server/dashboard/operations/read-operations.ts";

type Change = "suspend" | "resume" | "cancel";
const CHANGES: Record<string, Change[]> = { running: ["suspend", "cancel"], suspended: ["resume", "cancel"] };
const LABEL: Record<Change, string> = { suspend: "Suspend", resume: "Resume", cancel: "Cancel" };

function Progress({ op }: { op: OperationRow }) {
  const part = (n: number) => `${op.total ? (n / op.total) * 100 : 0}%`;
  return (
    <div className="small">
      <div className="progress" role="img" aria-label={`${op.total - op.pending} of ${op.total} handled`}>
        <span className="progress-ok" style={{ width: part(op.sent) }} />
        <span className="progress-skip" style={{ width: part(op.skipped) }} />
        <span className="progress-fail" style={{ width: part(op.failed) }} />
      </div>
      <span data-testid="operation-counts">
        {op.sent} sent · {op.skipped} skipped · {op.failed} failed · {op.pending} pending of {op.total}
      </span>
    </div>
  );
}

function Detail({ id }: { id: string }) {
  const trpc = useTRPC();
  const detail = useQuery(
    trpc.operations.detail.queryOptions({ operationId: id }, { refetchInterval: 2000 }),
  );
  if (detail.isError) return <p className="inline-error">{detail.error.message}</p>;
  if (!detail.data) return <p className="muted">Loading…</p>;
  const { reasons, lastHandled } = detail.data;
  return (
    <div className="panel" data-testid="operation-detail">
      <h2>Why sagas were skipped or failed</h2>
      {reasons.length === 0 ? (
        <p className="muted">None so far.</p>
      ) : (
        <ul className="plain small">
          {reasons.map((r) => (
            <li key={`${r.state}:${r.message}`}>
              {r.count} {r.state}: {r.message}
            </li>
          ))}
        </ul>
      )}
      <h2>Handled last</h2>
      <ul className="plain small mono">
        {lastHandled.map((h) => (
          <li key={h.sagaId}>
            <Link href={`/sagas/${encodeURIComponent(h.sagaId)}`}>{h.sagaId}</Link> · {h.state} · {h.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function OperationsTable() {
  const trpc = useTRPC();
  const can = useCan();
  const me = useMe();
  const opened = useSearchParams().get("id");
  const list = useQuery(trpc.operations.list.queryOptions(undefined, { refetchInterval: 1000 }));
  const change = useRefreshingMutation(trpc.operations.change.mutationOptions(), trpc.operations.pathKey());
  if (list.isError)
    return <ErrorPanel title="The operations could not be loaded" message={list.error.message} />;
  if (list.isPending) return <p className="muted">Loading…</p>;
  const actor = me.data?.actor;
  const mayChange = (op: OperationRow) =>
    can("saga.act") && (actor?.role === "admin" || actor?.email === op.startedBy);
  return (
    <>
      <ActionResult status={change.data} error={change.error?.message} />
      {list.data.length === 0 ? (
        <div className="panel">
          <strong>No operation yet.</strong>
          <p className="muted">
            Filter the <Link href="/sagas">saga list</Link>, then use "Act on these sagas…" in its toolbar.
          </p>
        </div>
      ) : (
        <table className="grid" data-testid="operations-table">
          <thead>
            <tr>
              <th>Action</th>
              <th>Sagas</th>
              <th>State</th>
              <th>Progress</th>
              <th>Rate</th>
              <th>Started</th>
              <th>Ended</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((op) => (
              <tr
                key={op.id}
                data-operation-id={op.id}
                data-state={op.state}
                className={op.id === opened ? "selected" : ""}
              >
                <td>
                  <Link href={`/operations?id=${op.id}`}>{op.action}</Link>
                  <div className="small muted">by {op.startedBy}</div>
                  {op.reason && <div className="small muted">“{op.reason}”</div>}
                </td>
                <td>
                  <Link href={op.filterQuery ? `/sagas?${op.filterQuery}` : "/sagas"} className="mono small">
                    {op.filterQuery || "every saga"}
                  </Link>
                </td>
                <td>
                  <strong data-testid="operation-state">{op.state}</strong>
                  <div className="small muted">
                    {op.stateMessage} · {formatTime(op.stateChangedAt)}
                  </div>
                </td>
                <td>
                  <Progress op={op} />
                </td>
                <td className="small">
                  {op.recentRate !== null ? `${op.recentRate.toFixed(1)}/s now` : "—"}
                  <div className="muted">at most {op.ratePerSecond}/s</div>
                </td>
                <td className="small">{formatTime(op.createdAt)}</td>
                <td className="small">{op.endedAt ? formatTime(op.endedAt) : "—"}</td>
                <td>
                  {mayChange(op) &&
                    (CHANGES[op.state] ?? []).map((c) => (
                      <button
                        key={c}
                        type="button"
                        disabled={change.isPending}
                        onClick={() =>
                          change.mutate({
                            operationId: op.id,
                            change: c,
                            idempotencyKey: newIdempotencyKey(),
                          })
                        }
                      >
                        {LABEL[c]}
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {opened && <Detail id={opened} />}
    </>
  );
}
