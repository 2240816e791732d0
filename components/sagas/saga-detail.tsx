"use client";
// One saga: its summary, its timeline, and every event with its payload, live.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useState } from "react";
import { SagaActions } from "@/components/sagas/saga-actions.tsx";
import { SagaTimelineChart } from "@/components/sagas/saga-timeline.tsx";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { StatusBadge } from "@/components/ui/status-badge.tsx";
import type { SagaBreakerDecisions } from "@/server/dashboard/sagas/saga-breakers.ts";
import { WAITING_HELP, WAITING_LABEL } from "./waiting-on-label.ts";

function BreakerDecisions({ decisions }: { decisions: SagaBreakerDecisions }) {
  const { rejections, transitions } = decisions;
  return (
    <>
      <h2>Circuit breakers</h2>
      {rejections.length === 0 && transitions.length === 0 ? (
        <p className="muted" data-testid="saga-breakers">
          No breaker refused a call of this saga, and no breaker in front of its services changed state while
          it ran.
        </p>
      ) : (
        <ul className="plain" data-testid="saga-breakers">
          {rejections.map((r) => (
            <li key={r.eventId} className="fail">
              {formatTime(r.time)} · step {r.step ?? "?"} ({r.service ?? "?"}) refused by its breaker:{" "}
              {r.message}
            </li>
          ))}
          {transitions.map((t) => (
            <li key={`${t.pair}-${t.time.getTime()}`}>
              {formatTime(t.time)} ·{" "}
              <Link href={`/breakers?pair=${encodeURIComponent(t.pair)}`}>{t.pair}</Link> {t.from} → {t.to}
              {t.forced && <span className="muted"> (forced {t.forced})</span>} · {t.reason}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function SagaDetailView({ sagaId }: { sagaId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const detail = useQuery(trpc.sagas.byId.queryOptions({ sagaId }));
  // Further pages of the events table, read only once asked for.
  const [moreWanted, setMoreWanted] = useState(false);
  const more = useInfiniteQuery(
    trpc.sagas.events.infiniteQueryOptions(
      { sagaId },
      {
        enabled: moreWanted,
        // The first page came with the saga; further pages are as long as it was.
        initialCursor: detail.data?.events.length ?? 0,
        getNextPageParam: (page) => page.nextOffset,
      },
    ),
  );
  const pageSize = detail.data?.events.length ?? 0;
  const shownEvents = [...(detail.data?.events ?? []), ...(more.data?.pages.flatMap((p) => p.events) ?? [])];
  const live = useSubscription(
    trpc.sagas.onChange.subscriptionOptions(
      { sagaId },
      {
        onData: () => {
          void queryClient.invalidateQueries({ queryKey: trpc.sagas.byId.queryKey({ sagaId }) });
          void queryClient.invalidateQueries({ queryKey: trpc.sagas.events.pathKey() });
        },
      },
    ),
  );

  return (
    <section>
      <p>
        <Link href="/sagas">← All sagas</Link>
      </p>
      {detail.isPending ? (
        <p className="muted">Loading saga…</p>
      ) : detail.isError ? (
        <ErrorPanel
          title={
            detail.error.data?.code === "NOT_FOUND" ? "Saga not seen (yet)" : "The saga could not be loaded"
          }
          message={detail.error.message}
        />
      ) : (
        <>
          <div className="toolbar">
            <h1>
              {detail.data.summary.sagaType} <StatusBadge status={detail.data.summary.status} />
              {detail.data.summary.stuck && <span className="badge badge-stuck">stuck</span>}
              {detail.data.summary.pausedAt && <span className="badge badge-paused">paused</span>}
            </h1>
            <LiveIndicator status={live.status} />
          </div>
          <dl className="facts">
            <dt>Saga id</dt>
            <dd className="mono" data-testid="saga-id">
              {detail.data.summary.sagaId}
            </dd>
            <dt>Trace id</dt>
            <dd className="mono">
              <Link
                href={`/traces/${detail.data.summary.traceId}`}
                title="Every event of this trace, across services"
              >
                {detail.data.summary.traceId}
              </Link>
              {detail.data.summary.traceDerived && (
                <span className="muted" data-testid="trace-derived">
                  {" "}
                  derived from the saga id: its producer sent no trace context
                </span>
              )}
            </dd>
            <dt>Services</dt>
            <dd>{detail.data.summary.services.join(", ") || "—"}</dd>
            <dt>Business key</dt>
            <dd>{detail.data.summary.businessKey ?? "—"}</dd>
            <dt>Mode</dt>
            <dd>{detail.data.summary.mode}</dd>
            <dt>Started</dt>
            <dd>
              {formatTime(detail.data.summary.startedAt)}{" "}
              <span className="muted">({formatAge(detail.data.summary.startedAt)})</span>
            </dd>
            <dt>Duration</dt>
            <dd>{formatDuration(detail.data.summary.durationMs)}</dd>
            {detail.data.summary.stuck && (
              <>
                <dt>Stuck</dt>
                <dd
                  className="fail"
                  data-testid="stuck-reason"
                  data-waiting={detail.data.summary.waitingOn ?? ""}
                >
                  {detail.data.summary.waitingOn && (
                    <strong title={WAITING_HELP[detail.data.summary.waitingOn]}>
                      {WAITING_LABEL[detail.data.summary.waitingOn]}:{" "}
                    </strong>
                  )}
                  {detail.data.summary.stuckReason}
                </dd>
              </>
            )}
            {detail.data.summary.pausedAt && (
              <>
                <dt>Paused</dt>
                <dd data-testid="paused-by" title={WAITING_HELP.paused}>
                  by {detail.data.summary.pausedBy ?? "an operator"} since{" "}
                  {formatTime(detail.data.summary.pausedAt)}{" "}
                  <span className="muted">({formatAge(detail.data.summary.pausedAt)})</span>: no step or
                  compensation starts until it is resumed
                </dd>
              </>
            )}
            {detail.data.summary.waitingOn === "operator" && (
              <>
                <dt>Needs</dt>
                <dd className="fail" data-testid="needs-operator">
                  an operator: {WAITING_HELP.operator}
                </dd>
              </>
            )}
            {detail.data.summary.failureReason && (
              <>
                <dt>Failure</dt>
                <dd className="fail">
                  {detail.data.summary.failedStep &&
                    !detail.data.summary.failureReason.startsWith(detail.data.summary.failedStep) && (
                      <strong>{detail.data.summary.failedStep}: </strong>
                    )}
                  {detail.data.summary.failureReason}
                </dd>
              </>
            )}
          </dl>

          <SagaActions
            sagaId={detail.data.summary.sagaId}
            actions={detail.data.actions}
            steps={detail.data.steps}
            mode={detail.data.summary.mode}
            input={detail.data.input.current}
          />
          {detail.data.timeline.edits.length > 0 && (
            <details className="input-edits" data-testid="input-edits">
              <summary>
                Input edited {detail.data.timeline.edits.length} time
                {detail.data.timeline.edits.length === 1 ? "" : "s"}: the original and each edit
              </summary>
              <h3>Original</h3>
              <pre className="mono small">{JSON.stringify(detail.data.input.original, null, 2)}</pre>
              {detail.data.timeline.edits.map((edit) => (
                <div key={edit.at.getTime()}>
                  <h3>
                    Edited by {edit.by} at {formatTime(edit.at)}
                  </h3>
                  <pre className="mono small">{JSON.stringify(edit.input, null, 2)}</pre>
                </div>
              ))}
            </details>
          )}

          <h2>Timeline</h2>
          <SagaTimelineChart timeline={detail.data.timeline} />

          <BreakerDecisions decisions={detail.data.breakers} />

          <h2>Events ({detail.data.summary.eventCount})</h2>
          {detail.data.truncated && (
            <p className="muted">Showing the newest {detail.data.eventsRead} events of this saga.</p>
          )}
          <table className="grid" data-testid="saga-events">
            <thead>
              <tr>
                <th>Time</th>
                <th>Type</th>
                <th>Step</th>
                <th>Service</th>
                <th>Payload</th>
              </tr>
            </thead>
            <tbody>
              {shownEvents.map((e) => (
                <tr key={e.id} data-event-type={e.type}>
                  <td className="small">{formatTime(e.time)}</td>
                  <td className="mono small">{e.type.replace("io.sagascope.saga.", "")}</td>
                  <td>{e.step ?? "—"}</td>
                  <td>{e.service ?? "—"}</td>
                  <td>
                    <details>
                      <summary className="small">
                        data · partition {e.kafka.partition} offset {e.kafka.offset}
                      </summary>
                      <pre className="payload">{JSON.stringify(e.data, null, 2)}</pre>
                      {e.extensions && (
                        <>
                          <div className="muted small">other attributes (extensions)</div>
                          <pre className="payload" data-testid="event-extensions">
                            {JSON.stringify(e.extensions, null, 2)}
                          </pre>
                        </>
                      )}
                      <div className="muted small mono">
                        id {e.id} · source {e.source} · span {e.spanId}
                      </div>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {shownEvents.length < detail.data.eventsRead && (
            <p>
              <button
                type="button"
                data-testid="more-events"
                disabled={more.isFetching}
                onClick={() => (moreWanted ? void more.fetchNextPage() : setMoreWanted(true))}
              >
                Show {Math.min(pageSize, detail.data.eventsRead - shownEvents.length)} more
              </button>{" "}
              <span className="muted small">
                {shownEvents.length} of {detail.data.eventsRead} shown, in time order
              </span>
            </p>
          )}
        </>
      )}
    </section>
  );
}
