// What the map's colours, lines and shapes mean, with the thresholds the reader colours by.
import { ERROR_RATE_BAD, ERROR_RATE_WARN, LAG_BAD_MS, LAG_WARN_MS, pct } from "@/browser-safe/map-tones.ts";
import styles from "./service-map.module.css";

const seconds = (ms: number) => `${ms / 1000} s`;
const cx = (...names: (string | false | undefined)[]) => names.filter(Boolean).join(" ");

function Line({ tone, kind, text }: { tone: string; kind?: "forced" | "wired"; text: string }) {
  return (
    <li>
      <svg className={styles.swatch} viewBox="0 0 36 12" aria-hidden="true">
        <path className={cx(styles.line, styles[tone], kind !== undefined && styles[kind])} d="M2,6 H34" />
      </svg>
      {text}
    </li>
  );
}

function Box({ tone, text }: { tone: string; text: string }) {
  return (
    <li>
      <span className={cx(styles.boxSwatch, styles[tone])} aria-hidden="true" />
      {text}
    </li>
  );
}

export function MapLegend() {
  return (
    <div className={styles.legend} data-testid="map-legend">
      <div>
        <h2 className={styles.legendTitle}>gRPC calls, by breaker state</h2>
        <ul className={styles.legendList}>
          <Line tone="ok" text="closed: calls pass" />
          <Line tone="warn" text="half-open: trial calls only" />
          <Line tone="bad" text="open: calls refused" />
          <Line tone="idle" text="disabled by an operator" />
          <Line tone="bad" kind="forced" text="dashed: forced by an operator" />
        </ul>
      </div>
      <div>
        <h2 className={styles.legendTitle}>Kafka</h2>
        <ul className={styles.legendList}>
          <Line tone="ok" text="publishes / is read by: seen in the data" />
          <Line tone="idle" kind="wired" text="dotted: known from the code's wiring" />
          <Line tone="warn" text="the projector's reads: amber or red when changes wait" />
          <li className="muted">thicker: more calls or events</li>
        </ul>
      </div>
      <div>
        <h2 className={styles.legendTitle}>Services, by failed steps (or calls)</h2>
        <ul className={styles.legendList}>
          <Box tone="ok" text={`below ${pct(ERROR_RATE_WARN)}`} />
          <Box tone="warn" text={`${pct(ERROR_RATE_WARN)} to ${pct(ERROR_RATE_BAD)}`} />
          <Box tone="bad" text={`${pct(ERROR_RATE_BAD)} or more`} />
          <Box tone="idle" text="nothing to judge by" />
        </ul>
      </div>
      <div>
        <h2 className={styles.legendTitle}>Ingester and projector, by delay</h2>
        <ul className={styles.legendList}>
          <Box tone="ok" text={`below ${seconds(LAG_WARN_MS)}`} />
          <Box tone="warn" text={`${seconds(LAG_WARN_MS)} to ${seconds(LAG_BAD_MS)}`} />
          <Box tone="bad" text={`${seconds(LAG_BAD_MS)} or more, or silent`} />
        </ul>
      </div>
    </div>
  );
}
