"use client";
// The one chart wrapper over recharts: time on the x axis, one line per series, readable in
// both themes (colours come from the page's CSS variables). A null value leaves a gap.
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

export interface Series<K extends string> {
  key: K;
  label: string;
  /** A CSS colour, e.g. var(--ok). */
  color: string;
}

/** A horizontal line across the chart, e.g. a threshold; the y axis stretches to show it. */
export interface ReferenceY {
  y: number;
  label: string;
  color: string;
}

export function TimeSeriesChart<K extends string>({
  data,
  series,
  height = 220,
  label,
  yFormat,
  yDomain,
  allowDecimals = false,
  references = [],
  dots = false,
}: {
  data: ({ at: Date } & Record<NoInfer<K>, number | null>)[];
  series: Series<K>[];
  height?: number;
  /** Names the chart for assistive technology. */
  label?: string;
  /** Formats the y axis ticks and the tooltip's values. */
  yFormat?: (value: number) => string;
  yDomain?: [number | "auto", number | "auto"];
  allowDecimals?: boolean;
  references?: ReferenceY[];
  /** Marks every value, so that a lone value between gaps still shows. */
  dots?: boolean;
}) {
  const rows = data.map((d) => ({ ...d, t: d.at.getTime() }));
  const time = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return (
    <div
      style={{ width: "100%", height }}
      data-testid="time-series-chart"
      {...(label ? { role: "figure", "aria-label": label } : {})}
    >
      <ResponsiveContainer>
        <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--line)" />
          <XAxis
            dataKey="t"
            type="number"
            domain={["dataMin", "dataMax"]}
            tickFormatter={time}
            stroke="var(--muted)"
          />
          <YAxis
            allowDecimals={allowDecimals}
            stroke="var(--muted)"
            width={yFormat ? 60 : 40}
            {...(yFormat ? { tickFormatter: yFormat } : {})}
            {...(yDomain ? { domain: yDomain } : {})}
          />
          <Tooltip
            labelFormatter={(t) => time(Number(t))}
            {...(yFormat
              ? {
                  formatter: (value: unknown) =>
                    value === null || value === undefined ? "—" : yFormat(Number(value)),
                }
              : {})}
          />
          <Legend />
          {references.map((r) => (
            <ReferenceLine
              key={`${r.label}-${r.y}`}
              y={r.y}
              stroke={r.color}
              strokeDasharray="6 4"
              ifOverflow="extendDomain"
              label={{ value: r.label, position: "insideTopRight", fill: r.color, fontSize: 12 }}
            />
          ))}
          {series.map((s) => (
            <Line
              key={s.key}
              type="monotone"
              dataKey={s.key}
              name={s.label}
              stroke={s.color}
              dot={dots ? { r: 2 } : false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
