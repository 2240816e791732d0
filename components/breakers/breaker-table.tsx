"use client";
// Every pair in one list: live state and reason, failure rate against its threshold, the
// current window, settings and last transitions; the pair's name selects its detail.
import Link from "next/link";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import type { BreakerDto } from "@/server/dashboard/breakers/list-breakers.ts";
import {
  evaluatedFigures,
  minimumCallsOf,
  pct,
  shownState,
  stateLabel,
  thresholdOf,
  thresholdText,
  windowOf,
} from "./breaker-format.ts";

function RateBar({ rate, threshold }: { rate: number; threshold: number }) {
  return (
    <div className="rate" title={`failure rate ${pct(rate)}, threshold ${pct(threshold)}`}>
      <div
        className={`rate-fill${rate >= threshold ? " rate-over" : ""}`}
        style={{ width: `${Math.min(100, rate * 100)}%` }}
      />
      <div className="rate-threshold" style={{ left: `${threshold * 100}%` }} />
    </div>
  );
}

export function BreakerTable({
  breakers,
  hrefFor,
  now,
}: {
  breakers: BreakerDto[];
  hrefFor: (pair: string) => string;
  now: number;
}) {
  return (
    <table className="grid" data-testid="breakers">
      <thead>
        <tr>
          <th>Pair</th>
          <th>State</th>
          <th>Failure rate</th>
          <th>Current window</th>
          <th>Settings</th>
          <th>Last transitions</th>
        </tr>
      </thead>
      <tbody>
        {breakers.map((b) => {
          const evaluated = evaluatedFigures(b);
          return (
            <tr key={b.pair} data-pair={b.pair} data-state={b.state} data-forced={b.forced ?? ""}>
              <td className="mono">
                <Link href={hrefFor(b.pair)} scroll={false}>
                  {b.caller} → {b.callee}
                  {b.operation ? <span className="muted"> / {b.operation}</span> : null}
                </Link>
              </td>
              <td>
                <span className={`badge badge-breaker-${shownState(b)}`} data-testid="breaker-state">
                  {b.forced ? `forced ${b.forced}` : stateLabel(b.state)}
                </span>
                <div className="small muted" title={b.since ? formatTime(b.since) : undefined}>
                  {b.since ? `since ${formatAge(b.since, now)}` : "since it was first used"}
                  {b.openUntil && !b.forced
                    ? ` · trials in ${formatDuration(Math.max(0, b.openUntil.getTime() - now))}`
                    : ""}
                  {b.state === "half_open" && b.config
                    ? ` · trials ${b.trials.taken}/${b.config.halfOpenPermits}`
                    : ""}
                  {b.forcedUntil ? ` · until ${formatTime(b.forcedUntil)}` : ""}
                </div>
                <div className="small">{b.reason}</div>
              </td>
              <td>
                <RateBar rate={evaluated.failureRate} threshold={thresholdOf(b) ?? 1} />
                <div className="small">
                  {pct(evaluated.failureRate)} of {evaluated.calls} calls ({thresholdText(b)}
                  {minimumCallsOf(b) === null ? "" : `, at least ${minimumCallsOf(b)} calls`})
                  {b.state === "closed" ? "" : " when it opened"}
                </div>
              </td>
              <td className="small" data-testid="breaker-window">
                {b.window.calls} calls · {b.window.failures} failed · {b.window.rejections} rejected
                {windowOf(b) === null ? null : (
                  <div className="muted">last {formatDuration(windowOf(b) as number)}</div>
                )}
              </td>
              <td className="small muted">
                {b.config ? (
                  `open ${formatDuration(b.config.openMs)} · ${b.config.halfOpenPermits} trial calls`
                ) : (
                  <span data-testid="reported-by">
                    kept by its own library; reported by {b.reported?.instance}
                  </span>
                )}
              </td>
              <td className="small">
                {b.transitions.length === 0 ? (
                  <span className="muted">none recorded</span>
                ) : (
                  <ul className="transitions">
                    {b.transitions.map((t) => (
                      <li
                        key={`${t.time.getTime()}-${t.to}`}
                        title={`${formatTime(t.time)} · reported by ${t.instance}`}
                      >
                        {formatAge(t.time, now)}: {stateLabel(t.from)} → {stateLabel(t.to)}
                        {t.forced ? ` (forced ${t.forced})` : ""} — {t.reason}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
