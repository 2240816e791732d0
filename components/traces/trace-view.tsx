"use client";
// One trace across services: a lane per service with every step and compensation attempt,
// every event marked where it happened, then the events in order with their payloads.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatDuration, formatTime, shortId } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { StatusBadge } from "@/components/ui/status-badge.tsx";
import type { TraceView as Trace } from "@/server/dashboard/traces/read-trace.ts";
import styles from "./trace-view.module.css";

const shortType = (type: string) => type.replace(/^io\.sagascope\.(saga\.|control\.)?/, "");

function Lanes({ trace }: { trace: Trace }) {
  const span = Math.max(1, trace.end.getTime() - trace.start.getTime());
  const pct = (d: Date) => ((d.getTime() - trace.start.getTime()) / span) * 100;
  const lane = (e: { service: string | null; source: string }) => e.service ?? e.source.replace(/^\//, "");
  return (
    <ol className={styles.lanes} data-testid="trace-lanes">
      {trace.services.map((service) => (
        <li key={service} className={styles.lane} data-service={service}>
          <div className={styles.laneLabel}>{service}</div>
          <div className={styles.track}>
            {trace.bars
              .filter((b) => b.service === service)
              .map((b) => {
                const left = pct(b.start);
                const width = Math.max(0.6, (b.end ? pct(b.end) : 100) - left);
                return (
                  <div
                    key={`${b.sagaId}-${b.kind}-${b.step}-${b.attempt}`}
                    className={`${styles.bar} ${styles[b.kind]} ${styles[b.outcome]}`}
                    style={{ left: `${left}%`, width: `${width}%` }}
                    title={`${b.kind === "compensation" ? "compensate " : ""}${b.step} · attempt ${b.attempt} · ${b.outcome}${b.error ? ` · ${b.error}` : ""} · ${formatDuration(b.end ? b.end.getTime() - b.start.getTime() : null)}`}
                  >
                    {b.kind === "compensation" ? "↩ " : ""}
                    {b.step}
                  </div>
                );
              })}
            {trace.events
              .filter((e) => lane(e) === service)
              .map((e) => (
                <a
                  key={e.id}
                  href={`#event-${e.id}`}
                  className={styles.mark}
                  style={{ left: `${pct(e.time)}%` }}
                  title={`${shortType(e.type)} at +${formatDuration(e.offsetMs)}`}
                >
                  <span className="sr-only">{`${shortType(e.type)} by ${service} at +${formatDuration(e.offsetMs)}`}</span>
                </a>
              ))}
          </div>
        </li>
      ))}
    </ol>
  );
}

export function TraceView({ traceId }: { traceId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // New sagas may join a trace at any time, so the page also re-reads on a slow beat.
  const trace = useQuery({ ...trpc.traces.byId.queryOptions({ traceId }), refetchInterval: 5000 });
  const sagaIds = new Set(trace.data?.sagas.map((s) => s.sagaId));
  const live = useSubscription(
    trpc.sagas.onChange.subscriptionOptions(undefined, {
      onData: (change) => {
        if (change.sagaIds === "*" || change.sagaIds.some((id) => sagaIds.has(id)))
          void queryClient.invalidateQueries({ queryKey: trpc.traces.byId.queryKey({ traceId }) });
      },
    }),
  );

  if (trace.isPending) return <p className="muted">Loading trace…</p>;
  if (trace.isError)
    return (
      <ErrorPanel
        title={
          trace.error.data?.code === "NOT_FOUND" ? "Trace not seen (yet)" : "The trace could not be loaded"
        }
        message={trace.error.message}
      />
    );
  const t = trace.data;
  return (
    <section>
      <div className="toolbar">
        <h1>
          Trace <span className="mono small">{t.traceId}</span>
        </h1>
        <LiveIndicator status={live.status} />
      </div>
      <dl className="facts">
        <dt>Started</dt>
        <dd>
          {formatTime(t.start)} <span className="muted">({formatAge(t.start)})</span>
        </dd>
        <dt>Span</dt>
        <dd>{formatDuration(t.end.getTime() - t.start.getTime())}</dd>
        <dt>Services</dt>
        <dd>{t.services.join(", ")}</dd>
        <dt>Sagas</dt>
        <dd data-testid="trace-sagas">
          {t.sagas.length === 0
            ? "—"
            : t.sagas.map((s) => (
                <span key={s.sagaId} className={styles.saga}>
                  <Link href={`/sagas/${encodeURIComponent(s.sagaId)}`}>{s.sagaType}</Link>{" "}
                  <span className="muted small">
                    {s.mode} · {shortId(s.sagaId, 18)}
                  </span>{" "}
                  <StatusBadge status={s.status} />
                </span>
              ))}
        </dd>
      </dl>

      <h2>Across services</h2>
      <Lanes trace={t} />

      <h2>Events ({t.events.length})</h2>
      {t.truncated && <p className="muted">Showing the first {t.events.length} events of this trace.</p>}
      <table className="grid" data-testid="trace-events">
        <thead>
          <tr>
            <th className="num">+ms</th>
            <th>Service</th>
            <th>Type</th>
            <th>Step</th>
            <th>Saga</th>
            <th>Span</th>
            <th>Payload</th>
          </tr>
        </thead>
        <tbody>
          {t.events.map((e) => (
            <tr key={e.id} id={`event-${e.id}`} data-event-type={e.type} data-service={e.service ?? ""}>
              <td className="num small" title={formatTime(e.time)}>
                {Math.round(e.offsetMs)}
              </td>
              <td>{e.service ?? <span className="muted">{e.source}</span>}</td>
              <td className="mono small">{shortType(e.type)}</td>
              <td>{e.step ?? "—"}</td>
              <td className="small">
                <Link href={`/sagas/${encodeURIComponent(e.sagaId)}`}>{shortId(e.sagaId, 14)}</Link>
              </td>
              <td className="mono small">{e.spanId ?? "—"}</td>
              <td>
                <details>
                  <summary className="small">
                    {e.kafka.topic} · p{e.kafka.partition} · offset {e.kafka.offset}
                  </summary>
                  <pre className="payload">{JSON.stringify(e.data, null, 2)}</pre>
                  <div className="muted small mono">
                    id {e.id} · source {e.source}
                  </div>
                </details>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
