"use client";
// The overview: sagas per minute, what is in flight and stuck, durations, open breakers,
// the projection's lag and the ingest rate; every figure links to the list behind it.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { WAITING_HELP, WAITING_LABEL, waitingHref } from "@/components/sagas/waiting-on-label.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatDuration } from "@/components/ui/format.ts";
import { TimeSeriesChart } from "@/components/ui/time-series-chart.tsx";

function Figure({
  label,
  value,
  href,
  testId,
  bad,
}: {
  label: string;
  value: string;
  href: string;
  testId: string;
  bad?: boolean;
}) {
  return (
    <Link href={href} className={`figure${bad ? " figure-bad" : ""}`} data-testid={testId}>
      <span className="figure-value">{value}</span>
      <span className="figure-label">{label}</span>
    </Link>
  );
}

export function OverviewBoard() {
  const trpc = useTRPC();
  const overview = useQuery(trpc.overview.get.queryOptions(undefined, { refetchInterval: 5000 }));
  const o = overview.data;
  return (
    <section>
      <div className="toolbar">
        <h1>Overview</h1>
        <span className="muted small">last hour · refreshed every 5 s</span>
      </div>
      {overview.isError ? (
        <ErrorPanel title="The overview could not be loaded" message={overview.error.message} />
      ) : overview.isPending || !o ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="figures">
            <Figure
              label="in flight"
              value={String(o.inFlight)}
              href="/sagas?status=running"
              testId="in-flight"
            />
            <Figure
              label="stuck"
              value={String(o.stuck)}
              href="/sagas?stuck=1"
              testId="stuck"
              bad={o.stuck > 0}
            />
            <Figure
              label="failed (1 h)"
              value={String(o.failedLastHour)}
              href="/sagas?status=failed"
              testId="failed"
              bad={o.failedLastHour > 0}
            />
            <Figure
              label="duration p50 / p95"
              value={`${formatDuration(o.durationMs.p50)} / ${formatDuration(o.durationMs.p95)}`}
              href="/sagas?status=completed"
              testId="durations"
            />
            <Figure
              label={`open breakers of ${o.breakers.total}`}
              value={String(o.breakers.open)}
              href="/breakers"
              testId="open-breakers"
              bad={o.breakers.open > 0}
            />
            <Figure
              label="projection lag"
              value={
                // Caught up, the newest change's age says how quiet the sources are, not lag.
                !o.projection
                  ? "—"
                  : o.projection.offsetLag === 0
                    ? "caught up"
                    : `${o.projection.offsetLag} · ${formatDuration(o.projection.timeLagMs)}`
              }
              href="/projections"
              testId="projection-lag"
              bad={(o.projection?.offsetLag ?? 0) > 0}
            />
            <Figure
              label="events ingested / s"
              value={String(o.ingestPerSecond)}
              href="/sagas"
              testId="ingest-rate"
            />
            <Figure
              label="open dead letters"
              value={String(o.deadLetters.open)}
              href="/dead-letters?state=open"
              testId="open-dead-letters"
              bad={o.deadLetters.open > 0}
            />
          </div>
          {o.waiting.length > 0 && (
            <ul
              className="chips"
              aria-label="Sagas waiting: stuck by kind, compensations given up, paused"
              data-testid="overview-waiting"
            >
              {o.waiting.map((w) => (
                <li key={w.kind} data-kind={w.kind}>
                  <Link className="chip" href={waitingHref(w.kind)} title={WAITING_HELP[w.kind]}>
                    {WAITING_LABEL[w.kind]} <strong>{w.count}</strong>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          {o.deadLetters.byReason.length > 0 && (
            <ul
              className="chips"
              aria-label="Open dead letters by reason"
              data-testid="overview-dead-letter-reasons"
            >
              {o.deadLetters.byReason.map((r) => (
                <li key={r.kind}>
                  <Link
                    className="chip"
                    href={`/dead-letters?state=open&reason=${encodeURIComponent(r.kind)}`}
                  >
                    {r.kind} <strong>{r.count}</strong>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          <p className="muted small" data-testid="data-since">
            {o.retention.dataSince
              ? `Saga events go back to ${o.retention.dataSince.toISOString().slice(0, 7)}`
              : "No saga events stored yet"}
            {o.retention.keepMonths > 0
              ? `; ${o.retention.keepMonths} month${o.retention.keepMonths === 1 ? "" : "s"} kept, older ones dropped`
              : "; all kept (no retention set)"}
            .
          </p>
          <h2>Sagas per minute</h2>
          <TimeSeriesChart
            data={o.perMinute.map((m) => ({
              at: m.minute,
              started: m.started,
              completed: m.completed,
              compensated: m.compensated,
              failed: m.failed,
            }))}
            series={[
              { key: "started", label: "started", color: "var(--accent)" },
              { key: "completed", label: "completed", color: "var(--ok)" },
              { key: "compensated", label: "compensated", color: "var(--warn)" },
              { key: "failed", label: "failed", color: "var(--bad)" },
            ]}
          />
        </>
      )}
    </section>
  );
}
