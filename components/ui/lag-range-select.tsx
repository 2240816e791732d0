// The range of a lag chart (a projection's, a consumer group's): the last 15 minutes to a day.
import type { LagRange } from "@/server/dashboard/projections/lag-history.ts";

const RANGES: LagRange[] = ["15m", "1h", "6h", "24h"];

export function LagRangeSelect({
  value,
  onChange,
  label,
  className,
}: {
  value: LagRange;
  onChange: (range: LagRange) => void;
  /** The select's accessible name. */
  label: string;
  className?: string;
}) {
  return (
    <label className={className}>
      Range{" "}
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as LagRange)}>
        {RANGES.map((r) => (
          <option key={r} value={r}>
            last {r}
          </option>
        ))}
      </select>
    </label>
  );
}
