"use client";
// The saga list: newest first, a status filter, cursor pages, live without reloads.
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatDuration, formatTime, shortId } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { PagedList } from "@/components/ui/paged-list.tsx";
import { StatusBadge } from "@/components/ui/status-badge.tsx";

const STATUSES = [
  "running",
  "compensating",
  "completed",
  "compensated",
  "failed",
  "timed_out",
  "resolved",
] as const;
type Status = (typeof STATUSES)[number];

export function SagaList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status | undefined>(undefined);
  const [stuckOnly, setStuckOnly] = useState(false);
  const list = useInfiniteQuery(
    trpc.sagas.list.infiniteQueryOptions(
      { limit: 25, status, ...(stuckOnly ? { stuck: true } : {}) },
      { getNextPageParam: (page) => page.nextCursor },
    ),
  );
  const live = useSubscription(
    trpc.sagas.onChange.subscriptionOptions(undefined, {
      onData: () => void queryClient.invalidateQueries({ queryKey: trpc.sagas.list.pathKey() }),
    }),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section>
      <div className="toolbar">
        <h1>Sagas</h1>
        <label>
          Status{" "}
          <select
            value={status ?? ""}
            onChange={(e) => setStatus((e.target.value || undefined) as Status | undefined)}
            aria-label="Filter by status"
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" checked={stuckOnly} onChange={(e) => setStuckOnly(e.target.checked)} /> stuck
          only
        </label>
        <LiveIndicator status={live.status} />
      </div>
      <PagedList
        query={list}
        count={rows.length}
        errorTitle="The saga list could not be loaded"
        olderLabel="Older sagas"
        empty={
          <>
            <strong>No sagas yet.</strong>
            <p className="muted">
              Sagas appear here as soon as their events reach the ingester. Start the demo fleet with{" "}
              <code>npm run demo</code>, or publish events as described in docs/events.md.
            </p>
          </>
        }
      >
        <table className="grid" data-testid="saga-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Saga</th>
              <th>Status</th>
              <th>Step</th>
              <th className="num">Duration</th>
              <th>Trace id</th>
              <th className="num">Events</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.sagaId} data-saga-id={s.sagaId}>
                <td title={formatTime(s.startedAt)}>{formatAge(s.startedAt)}</td>
                <td>
                  <Link href={`/sagas/${encodeURIComponent(s.sagaId)}`} className="saga-link">
                    {s.sagaType}
                  </Link>
                  <div className="muted small">{s.businessKey ?? shortId(s.sagaId, 18)}</div>
                </td>
                <td>
                  <StatusBadge status={s.status} />
                  {s.stuck && (
                    <span className="badge badge-stuck" title={s.stuckReason ?? undefined}>
                      stuck
                    </span>
                  )}
                </td>
                <td title={s.failureReason ?? undefined}>
                  {s.failedStep ? <span className="fail">✗ {s.failedStep}</span> : (s.currentStep ?? "—")}
                </td>
                <td className="num">
                  {formatDuration(s.durationMs ?? Date.now() - s.startedAt.getTime())}
                  {s.durationMs === null && <span className="muted small"> so far</span>}
                </td>
                <td className="mono small">{s.traceId}</td>
                <td className="num">{s.eventCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
