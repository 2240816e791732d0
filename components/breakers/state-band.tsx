// A pair's state over the chosen range as one coloured band (from its recorded transitions),
// with a second, hatched band where callers reported an operator's forced state.
import { formatDuration, formatTime } from "@/components/ui/format.ts";
import type { PairHistory, StateSegment } from "@/server/dashboard/breakers/pair-history.ts";
import { cx, stateLabel } from "./breaker-format.ts";
import styles from "./breakers.module.css";

const clock = (d: Date) =>
  d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

function describeSegment(s: StateSegment): string {
  const forced = s.forced ? ` (forced ${s.forced})` : "";
  const changes = s.changes > 0 ? `, with ${s.changes} more changes inside` : "";
  return `${stateLabel(s.state)}${forced} from ${formatTime(s.from)} to ${formatTime(s.to)}${changes}: ${s.reason}`;
}

/** Runs of buckets in which a caller reported the same forced state. */
function forcedStretches(history: PairHistory) {
  const end = history.range.to.getTime();
  const stretches: { from: number; to: number; forced: string }[] = [];
  for (const p of history.points) {
    if (!p.forced) continue;
    const from = p.at.getTime();
    const to = Math.min(from + history.range.bucketMs, end);
    const last = stretches.at(-1);
    if (last && last.forced === p.forced && last.to >= from) last.to = to;
    else stretches.push({ from, to, forced: p.forced });
  }
  return stretches;
}

export function StateBand({ history }: { history: PairHistory }) {
  const from = history.range.from.getTime();
  const to = history.range.to.getTime();
  const span = Math.max(1, to - from);
  const x = (t: number) => ((Math.min(Math.max(t, from), to) - from) / span) * 100;
  const place = (a: number, b: number) => ({ left: `${x(a)}%`, width: `${x(b) - x(a)}%` });
  const forced = forcedStretches(history);
  return (
    <div data-testid="state-band">
      <ol className={styles.band} aria-label="State over the range">
        {history.segments.map((s) => (
          <li
            key={s.from.getTime()}
            className={cx(
              styles.segment,
              styles[s.state],
              s.forced && styles.forced,
              s.changes > 0 && styles.flapping,
            )}
            style={place(s.from.getTime(), s.to.getTime())}
            title={describeSegment(s)}
            aria-label={describeSegment(s)}
            data-state={s.state}
            data-forced={s.forced ?? ""}
          />
        ))}
      </ol>
      {forced.length > 0 ? (
        <ol className={cx(styles.band, styles.forcedBand)} aria-label="Forced states reported by callers">
          {forced.map((f) => {
            const label = `forced ${f.forced}, reported by callers from ${formatTime(new Date(f.from))} to ${formatTime(new Date(f.to))}`;
            return (
              <li
                key={f.from}
                className={cx(styles.segment, styles.forced, styles[f.forced])}
                style={place(f.from, f.to)}
                title={label}
                aria-label={label}
                data-forced={f.forced}
              />
            );
          })}
        </ol>
      ) : null}
      <div className={styles.bandAxis}>
        <span>{clock(history.range.from)}</span>
        <span>{clock(history.range.to)}</span>
      </div>
      {history.segmentsExact ? null : (
        <p className={styles.caption}>
          Too many transitions in this range to draw each: the band shows the state at the start of every{" "}
          {formatDuration(history.range.bucketMs)} and stripes the stretches that changed in between.
        </p>
      )}
    </div>
  );
}
