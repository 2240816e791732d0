"use client";
// The what-if replay side by side: with the proposed thresholds and with the current ones,
// when the breaker would have opened and closed over the recorded hour, and how many calls it
// would have let through, refused and tried.
import { formatTime } from "@/components/ui/format.ts";
import type { WhatIf } from "@/server/actions/what-if.ts";
import styles from "./breaker-actions.module.css";
import { stateLabel } from "./breaker-format.ts";

export interface WhatIfResult {
  windows: number;
  calls: number;
  /** Every call the hour recorded; more than `calls` when only the newest were replayed. */
  recordedCalls: number;
  limitedTo: number | null;
  from: Date;
  to: Date;
  proposed: WhatIf;
  current: WhatIf;
}

/** Enough to see the pattern; a flapping hour can hold hundreds. */
const SHOWN_TRANSITIONS = 40;

const clock = (at: number | Date) =>
  new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function WhatIfPreview({ result, updating }: { result: WhatIfResult; updating: boolean }) {
  if (result.windows === 0)
    return (
      <div className="panel" data-testid="what-if">
        <strong>No outcomes recorded for this pair in the last hour: nothing to replay.</strong>
        <p className="muted">
          Each caller instance reports its calls every 10 s while it uses the breaker; the preview fills as
          those reports arrive.
        </p>
      </div>
    );
  return (
    <div data-testid="what-if" aria-busy={updating}>
      <p className="small muted">
        {result.calls} calls from {result.windows} recorded stats windows, {clock(result.from)} to{" "}
        {clock(result.to)}, each window&apos;s calls spread evenly over it and replayed through the
        breaker&apos;s rules{updating ? " · updating…" : ""}.
      </p>
      {result.limitedTo !== null && (
        <p className="small" data-testid="what-if-limited">
          The hour recorded {result.recordedCalls.toLocaleString()} calls: only the newest{" "}
          {result.limitedTo.toLocaleString()} are replayed, from {clock(result.from)}.
        </p>
      )}
      <div className={styles.whatIf}>
        <Replay title="With the proposed thresholds" testId="what-if-proposed" replay={result.proposed} />
        <Replay title="With the current thresholds" testId="what-if-current" replay={result.current} />
      </div>
    </div>
  );
}

function Replay({ title, testId, replay }: { title: string; testId: string; replay: WhatIf }) {
  const shown = replay.transitions.slice(0, SHOWN_TRANSITIONS);
  const opened = replay.transitions.filter((t) => t.to === "open").length;
  return (
    <section className={styles.replay} data-testid={testId} aria-label={title}>
      <h5>{title}</h5>
      <dl className={styles.counts}>
        <dt>Passed</dt>
        <dd data-testid="passed">{replay.passed}</dd>
        <dt>Refused</dt>
        <dd data-testid="rejected">{replay.rejected}</dd>
        <dt>Trial calls</dt>
        <dd data-testid="trials">{replay.trials}</dd>
        <dt>Opened</dt>
        <dd data-testid="openings">
          {opened} time{opened === 1 ? "" : "s"}
        </dd>
        <dt>Ends</dt>
        <dd>{stateLabel(replay.finalState)}</dd>
      </dl>
      {replay.transitions.length === 0 ? (
        <p className="muted small">No transition: it would have stayed closed.</p>
      ) : (
        <ol className={`small ${styles.replayTransitions}`} data-testid="what-if-transitions">
          {shown.map((t) => (
            <li key={`${t.at}-${t.from}-${t.to}`} title={formatTime(new Date(t.at))}>
              <span className="mono">{clock(t.at)}</span>{" "}
              <strong>
                {stateLabel(t.from)} → {stateLabel(t.to)}
              </strong>{" "}
              <span className="muted">{t.reason}</span>
            </li>
          ))}
          {replay.transitions.length > shown.length ? (
            <li className="muted">…and {replay.transitions.length - shown.length} more</li>
          ) : null}
        </ol>
      )}
    </section>
  );
}
