"use client";
// Every caller→callee breaker with its live state, failure rate against its threshold, the
// current window and its last transitions; refreshed whenever a breaker changes.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

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

export function BreakerBoard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.breakers.list.queryOptions());
  const live = useSubscription(
    trpc.breakers.onChange.subscriptionOptions(undefined, {
      onData: () => void queryClient.invalidateQueries({ queryKey: trpc.breakers.list.queryKey() }),
    }),
  );
  const rows = list.data ?? [];
  const now = Date.now();

  return (
    <section>
      <div className="toolbar">
        <h1>Circuit breakers</h1>
        <LiveIndicator status={live.status} />
      </div>
      <p className="muted">
        One breaker per caller→callee pair, shared by every instance of the caller through Redis. States
        change as the callers report their calls; forced states are an operator's override.
      </p>
      {list.isError ? (
        <ErrorPanel title="The breakers could not be loaded" message={list.error.message} />
      ) : list.isPending ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <div className="panel">
          <strong>No breakers yet.</strong>
          <p className="muted">
            A pair appears as soon as a caller makes its first call through a breaker (the demo fleet's
            orchestrator and bank B do; see docs/breakers.md).
          </p>
        </div>
      ) : (
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
            {rows.map((b) => {
              const shown = b.forced ? b.forced : b.state;
              const evaluated = b.state === "closed" ? b.window : b.lastEvaluation;
              return (
                <tr key={b.pair} data-pair={b.pair} data-state={b.state} data-forced={b.forced ?? ""}>
                  <td className="mono">
                    {b.caller} → {b.callee}
                    {b.operation ? <span className="muted"> / {b.operation}</span> : null}
                  </td>
                  <td>
                    <span className={`badge badge-breaker-${shown}`} data-testid="breaker-state">
                      {b.forced ? `forced ${b.forced}` : b.state.replace("_", "-")}
                    </span>
                    <div className="small muted" title={formatTime(b.since)}>
                      since {formatAge(b.since, now)}
                      {b.openUntil && !b.forced
                        ? ` · trials in ${formatDuration(Math.max(0, b.openUntil.getTime() - now))}`
                        : ""}
                      {b.state === "half_open"
                        ? ` · trials ${b.trials.taken}/${b.config.halfOpenPermits}`
                        : ""}
                      {b.forcedUntil ? ` · until ${formatTime(b.forcedUntil)}` : ""}
                    </div>
                    <div className="small">{b.reason}</div>
                  </td>
                  <td>
                    <RateBar rate={evaluated.failureRate} threshold={b.config.failureRate} />
                    <div className="small">
                      {pct(evaluated.failureRate)} of {evaluated.calls} calls (threshold{" "}
                      {pct(b.config.failureRate)}, at least {b.config.minimumCalls} calls)
                      {b.state === "closed" ? "" : " when it opened"}
                    </div>
                  </td>
                  <td className="small" data-testid="breaker-window">
                    {b.window.calls} calls · {b.window.failures} failed · {b.window.rejections} rejected
                    <div className="muted">last {formatDuration(b.config.windowMs)}</div>
                  </td>
                  <td className="small muted">
                    open {formatDuration(b.config.openMs)} · {b.config.halfOpenPermits} trial calls
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
                            {formatAge(t.time, now)}: {t.from.replace("_", "-")} → {t.to.replace("_", "-")}
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
      )}
    </section>
  );
}
