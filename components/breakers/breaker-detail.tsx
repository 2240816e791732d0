"use client";
// One pair in depth: its state band over the chosen range, failure rate against the threshold,
// call volume and rejections, latency percentiles (from the stats the callers report, stored in
// Postgres), its current settings and override (from Redis), its last transitions, and for the
// roles allowed, the operator's actions and the admin's threshold form.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import { TimeSeriesChart } from "@/components/ui/time-series-chart.tsx";
import type { BreakerDto } from "@/server/dashboard/breakers/list-breakers.ts";
import type { HistoryRange, PairHistory } from "@/server/dashboard/breakers/pair-history.ts";
import { BreakerActions } from "./breaker-actions.tsx";
import { evaluatedFigures, pairLabel, pct, shownState, stateLabel, thresholdOf } from "./breaker-format.ts";
import styles from "./breakers.module.css";
import { StateBand } from "./state-band.tsx";
import { ThresholdEditor } from "./threshold-editor.tsx";
import { RANGE_LABELS } from "./use-breaker-selection.ts";

const ms = (v: number) => `${v > 0 && v < 10 ? v.toFixed(1) : Math.round(v)} ms`;

export function BreakerDetail({
  pair,
  breaker,
  range,
  onRange,
  closeHref,
}: {
  pair: string;
  /** The pair's live state; undefined when Redis does not know the pair. */
  breaker: BreakerDto | undefined;
  range: HistoryRange;
  onRange: (range: HistoryRange) => void;
  closeHref: string;
}) {
  const trpc = useTRPC();
  const history = useQuery(
    trpc.breakers.history.queryOptions(
      { pair, range },
      {
        // Callers report every 10 s; a new range keeps the old picture until the new one arrives.
        refetchInterval: 5000,
        placeholderData: (previous) => (previous?.pair === pair ? previous : undefined),
      },
    ),
  );
  const now = Date.now();
  return (
    <section
      className={styles.detail}
      data-testid="breaker-detail"
      data-pair={pair}
      aria-labelledby="pair-title"
    >
      <div className={styles.detailHead}>
        <h2 id="pair-title">{breaker ? pairLabel(breaker) : pair}</h2>
        {breaker ? (
          <span className={`badge badge-breaker-${shownState(breaker)}`} data-testid="detail-state">
            {breaker.forced ? `forced ${breaker.forced}` : stateLabel(breaker.state)}
          </span>
        ) : null}
        <fieldset className={styles.ranges}>
          <legend className={styles.hidden}>Range</legend>
          {(Object.keys(RANGE_LABELS) as HistoryRange[]).map((r) => (
            <button key={r} type="button" aria-pressed={r === range} onClick={() => onRange(r)}>
              {RANGE_LABELS[r]}
            </button>
          ))}
        </fieldset>
        <Link href={closeHref} scroll={false} className="small">
          close
        </Link>
      </div>
      {breaker ? (
        <p className="small">
          {breaker.reason}{" "}
          <span className="muted">
            · {breaker.since ? `since ${formatAge(breaker.since, now)}` : "since it was first used"}
          </span>
        </p>
      ) : (
        <p className="small muted">
          Redis holds no breaker by this name now (no caller has used it since Redis was emptied, or the name
          is mistyped); what Postgres recorded of it is shown.
        </p>
      )}
      <BreakerActions pair={pair} breaker={breaker} />
      {breaker?.reported ? <ControlStatus breaker={breaker} now={now} /> : null}
      <div className={styles.columns}>
        <div>
          {history.isError ? (
            <ErrorPanel title="The breaker's history could not be loaded" message={history.error.message} />
          ) : history.isPending ? (
            <p className="muted">Loading the history…</p>
          ) : (
            <HistoryCharts history={history.data} breaker={breaker} />
          )}
        </div>
        <div>
          {breaker ? <CurrentConfig breaker={breaker} now={now} /> : null}
          {history.data ? <LastTransitions history={history.data} now={now} /> : null}
        </div>
      </div>
      {breaker?.config ? <ThresholdEditor key={pair} pair={pair} config={breaker.config} /> : null}
    </section>
  );
}

function HistoryCharts({ history, breaker }: { history: PairHistory; breaker: BreakerDto | undefined }) {
  const points = history.points;
  const bucket = formatDuration(history.range.bucketMs);
  const threshold = (breaker && thresholdOf(breaker)) ?? history.transitions[0]?.failureRateThreshold;
  const reported = points.some((p) => p.calls > 0 || p.rejections > 0);
  return (
    <>
      <h3>State</h3>
      <StateBand history={history} />
      {!reported ? (
        <div className={`panel ${styles.emptyCharts}`}>
          <strong>No calls reported in this range.</strong>
          <p className="muted">
            Every caller instance reports each pair every 10 s while it makes calls through the breaker; the
            charts fill as those reports arrive.
          </p>
        </div>
      ) : (
        <>
          <h3>Failure rate</h3>
          <TimeSeriesChart
            label="Failure rate against the threshold"
            data={points.map((p) => ({ at: p.at, rate: p.failureRate }))}
            series={[{ key: "rate", label: "failure rate (failures ÷ calls)", color: "var(--bad)" }]}
            references={
              threshold === undefined
                ? []
                : [{ y: threshold, label: `threshold ${pct(threshold)}`, color: "var(--text)" }]
            }
            yFormat={pct}
            yDomain={[0, 1]}
            allowDecimals
            dots
          />
          <p className={styles.caption}>
            Per {bucket}, summed over the caller&apos;s instances: failures ÷ calls, as the breaker counts
            them (business refusals are calls, not failures; trial calls included).
            {breaker?.config
              ? ` It opens when the rate over its ${formatDuration(breaker.config.windowMs)} window reaches the threshold with at least ${breaker.config.minimumCalls} calls.`
              : ""}
          </p>
          <h3>Calls and rejections</h3>
          <TimeSeriesChart
            label="Calls and rejections"
            data={points.map((p) => ({
              at: p.at,
              calls: p.calls,
              failures: p.failures,
              business: p.business,
              rejections: p.rejections,
            }))}
            series={[
              { key: "calls", label: "calls", color: "var(--accent)" },
              { key: "failures", label: "failures", color: "var(--bad)" },
              { key: "business", label: "business refusals", color: "var(--comp)" },
              { key: "rejections", label: "rejected by the breaker", color: "var(--warn)" },
            ]}
          />
          <p className={styles.caption}>Per {bucket}, summed over the caller&apos;s instances.</p>
          <h3>Latency</h3>
          <TimeSeriesChart
            label="Latency percentiles"
            data={points.map((p) => ({
              at: p.at,
              p50: p.latencyMs.p50,
              p95: p.latencyMs.p95,
              p99: p.latencyMs.p99,
            }))}
            series={[
              { key: "p50", label: "p50 (slowest instance)", color: "var(--ok)" },
              { key: "p95", label: "p95 (slowest instance)", color: "var(--warn)" },
              { key: "p99", label: "p99 (slowest instance)", color: "var(--bad)" },
            ]}
            yFormat={ms}
            allowDecimals
            dots
          />
          <p className={styles.caption}>
            Percentiles cannot be added up across instances: each point is the highest that any instance
            reported in its {bucket}, so it bounds the true figure from above.
          </p>
        </>
      )}
    </>
  );
}

/**
 * A pair known only from its events: decisions reach it through the control channel, and its
 * callers say they applied one by reporting the forced state since.
 */
function ControlStatus({ breaker: b, now }: { breaker: BreakerDto; now: number }) {
  const c = b.control;
  if (!c)
    return (
      <p className="small muted" data-testid="control-status">
        Its own library keeps this breaker; an override reaches it through the control channel, which its
        bridge obeys (docs/breakers.md).
      </p>
    );
  const decision = c.forced
    ? `forced ${c.forced}${c.forcedUntil ? ` until ${formatTime(c.forcedUntil)}` : " until cleared"}`
    : "no override";
  return (
    <p
      className="small"
      data-testid="control-status"
      data-applied={c.waitingFor.length === 0 ? "all" : "some"}
    >
      Control channel: <strong>{decision}</strong>, by {c.requestedBy} {formatAge(c.at, now)}.{" "}
      {c.acknowledgedBy.length > 0 ? `Applied by ${c.acknowledgedBy.join(", ")}. ` : ""}
      {c.waitingFor.length > 0 ? (
        <span className="fail">Not yet applied by {c.waitingFor.join(", ")}.</span>
      ) : c.acknowledgedBy.length === 0 ? (
        <span className="muted">No caller has reported since.</span>
      ) : null}
    </p>
  );
}

/** A pair known only from its events: what its own library last reported. */
function ReportedState({ breaker: b, now }: { breaker: BreakerDto; now: number }) {
  const figures = evaluatedFigures(b);
  return (
    <>
      <h3>Now (as its library reported it)</h3>
      <dl className="facts" data-testid="breaker-config">
        <dt>Kept by</dt>
        <dd data-testid="reported-by">
          the caller&apos;s own breaker library; last reported by {b.reported?.instance}{" "}
          {b.reported ? formatAge(b.reported.at, now) : ""}
        </dd>
        <dt>Failure-rate threshold</dt>
        <dd>{thresholdOf(b) === null ? "not reported" : pct(thresholdOf(b) as number)}</dd>
        <dt>Forced state</dt>
        <dd data-testid="breaker-forced">{b.forced ?? "none"}</dd>
        <dt>Failure rate</dt>
        <dd>
          {pct(figures.failureRate)} of {figures.calls} calls
          {b.state === "closed" ? " in its last window" : " when it opened"}
        </dd>
        <dt>Last window</dt>
        <dd>
          {b.window.calls} calls · {b.window.failures} failed · {b.window.rejections} rejected
        </dd>
      </dl>
    </>
  );
}

function CurrentConfig({ breaker: b, now }: { breaker: BreakerDto; now: number }) {
  if (!b.config) return <ReportedState breaker={b} now={now} />;
  const config = b.config;
  const figures = evaluatedFigures(b);
  return (
    <>
      <h3>Now (from Redis)</h3>
      <dl className="facts" data-testid="breaker-config">
        <dt>Failure-rate threshold</dt>
        <dd>{pct(config.failureRate)}</dd>
        <dt>Minimum calls</dt>
        <dd>{config.minimumCalls} in the window</dd>
        <dt>Window</dt>
        <dd>{formatDuration(config.windowMs)} (ten buckets)</dd>
        <dt>Open duration</dt>
        <dd>
          {formatDuration(config.openMs)}, doubling with each reopening up to{" "}
          {formatDuration(config.maxOpenMs)}
        </dd>
        <dt>Half-open permits</dt>
        <dd>
          {config.halfOpenPermits} trial call{config.halfOpenPermits === 1 ? "" : "s"}
        </dd>
        <dt>Forced state</dt>
        <dd data-testid="breaker-forced">
          {b.forced
            ? `${b.forced}, ${b.forcedUntil ? `until ${formatTime(b.forcedUntil)}` : "until cleared"}`
            : "none"}
        </dd>
        <dt>Failure rate</dt>
        <dd>
          {pct(figures.failureRate)} of {figures.calls} calls
          {b.state === "closed" ? " in the window" : " when it opened"}
        </dd>
        <dt>Window now</dt>
        <dd>
          {b.window.calls} calls · {b.window.failures} failed · {b.window.rejections} rejected
        </dd>
        {b.state === "open" && b.openUntil && !b.forced ? (
          <>
            <dt>Trial calls</dt>
            <dd>in {formatDuration(Math.max(0, b.openUntil.getTime() - now))}</dd>
          </>
        ) : null}
        {b.state === "half_open" ? (
          <>
            <dt>Trial calls</dt>
            <dd>
              {b.trials.taken} of {config.halfOpenPermits} taken, {b.trials.succeeded} succeeded
            </dd>
          </>
        ) : null}
      </dl>
    </>
  );
}

function LastTransitions({ history, now }: { history: PairHistory; now: number }) {
  return (
    <>
      <h3>Last transitions</h3>
      {history.transitions.length === 0 ? (
        <p className="muted small">None recorded: the breaker has stayed closed since it was first used.</p>
      ) : (
        <ol className="transitions small" data-testid="breaker-transitions">
          {history.transitions.map((t) => (
            <li
              key={`${t.time.getTime()}-${t.from}-${t.to}`}
              title={`${formatTime(t.time)} · reported by ${t.instance}`}
            >
              <strong>
                {stateLabel(t.from)} → {stateLabel(t.to)}
              </strong>{" "}
              <span className="muted">{formatAge(t.time, now)}</span>
              {t.forced ? ` (forced ${t.forced})` : ""} — {t.reason}
              {t.from === "closed" && t.to === "open" ? (
                <span className="muted">
                  {" "}
                  · {t.failures} of {t.calls} calls failed, threshold {pct(t.failureRateThreshold)}
                </span>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
