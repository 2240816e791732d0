"use client";
// The views page: every view the user sees, what each matches now, which is their landing page,
// and (their own, or as an admin the team's) deleting one.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { ActionResult } from "@/components/actions/action-result.tsx";
import { ConfirmDialog } from "@/components/actions/confirm-dialog.tsx";
import { newIdempotencyKey } from "@/components/actions/use-action.ts";
import { useRefreshingMutation } from "@/components/actions/use-refreshing-mutation.ts";
import { useCan } from "@/components/auth/use-me.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import type { SavedViewItem } from "@/server/dashboard/views/read-views.ts";
import { viewCount } from "./views-menu.tsx";

export function ViewsTable() {
  const trpc = useTRPC();
  const can = useCan();
  const list = useQuery(trpc.views.list.queryOptions(undefined, { refetchInterval: 30_000 }));
  const act = useRefreshingMutation(trpc.views.act.mutationOptions(), trpc.views.pathKey());
  const [deleting, setDeleting] = useState<SavedViewItem | undefined>();
  if (list.isError) return <ErrorPanel title="The views could not be loaded" message={list.error.message} />;
  if (list.isPending) return <p className="muted">Loading…</p>;
  const { views, countCap } = list.data;
  const now = Date.now();
  const landing = views.find((v) => v.landing);
  return (
    <>
      <p className="muted">
        You land on{" "}
        {landing ? (
          <>
            the view <strong>{landing.name}</strong>
          </>
        ) : (
          "the overview"
        )}{" "}
        when you open the dashboard.{" "}
        {landing && (
          <button
            type="button"
            className="link"
            onClick={() => act.mutate({ op: "landing", id: null, idempotencyKey: newIdempotencyKey() })}
          >
            Land on the overview again
          </button>
        )}
      </p>
      <ActionResult status={act.data} error={act.error?.message} />
      {views.length === 0 ? (
        <div className="panel">
          <strong>No saved view yet.</strong>
          <p className="muted">Filter the saga list or the audit log, then use "Save view" in its toolbar.</p>
        </div>
      ) : (
        <table className="grid" data-testid="views-table">
          <thead>
            <tr>
              <th>View</th>
              <th>Page</th>
              <th>Filter</th>
              <th className="num">Matching now</th>
              <th>Whose</th>
              <th>Saved</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {views.map((v) => (
              <tr key={v.id} data-view={v.name} data-landing={v.landing ? "true" : undefined}>
                <td>
                  <Link href={v.href}>{v.name}</Link>
                </td>
                <td>{v.page === "sagas" ? "sagas" : "audit log"}</td>
                <td className="mono small">{v.query || <span className="muted">everything</span>}</td>
                <td className="num" data-testid="view-count">
                  {viewCount(v, countCap)}
                </td>
                <td>
                  {v.mine ? "mine" : v.ownerEmail}
                  {v.shared ? <span className="muted small"> · shared</span> : null}
                </td>
                <td title={formatTime(v.updatedAt)}>{formatAge(v.updatedAt, now)}</td>
                <td>
                  <div className="row-actions">
                    {v.landing ? (
                      <span className="muted small">landing page</span>
                    ) : (
                      <button
                        type="button"
                        onClick={() =>
                          act.mutate({ op: "landing", id: v.id, idempotencyKey: newIdempotencyKey() })
                        }
                      >
                        Land here
                      </button>
                    )}
                    {(v.mine || can("views.manage")) && (
                      <button type="button" onClick={() => setDeleting(v)}>
                        Delete
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete the view "${deleting.name}"?`}
          confirmLabel="Delete"
          busy={act.isPending}
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => {
            act.mutate({ op: "delete", id: deleting.id, idempotencyKey: newIdempotencyKey() });
            setDeleting(undefined);
          }}
        >
          {deleting.shared
            ? "It is shared: it goes for everyone, and anyone landing on it lands on the overview again."
            : "It is yours alone."}
        </ConfirmDialog>
      )}
    </>
  );
}
