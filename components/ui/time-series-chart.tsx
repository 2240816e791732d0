"use client";
// The one chart wrapper over recharts: time on the x axis, one line per series, readable in
// both themes (colours come from the page's CSS variables).
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface Series<K extends string> {
  key: K;
  label: string;
  /** A CSS colour, e.g. var(--ok). */
  color: string;
}

export function TimeSeriesChart<K extends string>({
  data,
  series,
  height = 220,
}: {
  data: ({ at: Date } & Record<K, number>)[];
  series: Series<K>[];
  height?: number;
}) {
  const rows = data.map((d) => ({ ...d, t: d.at.getTime() }));
  const time = (t: number) =>
    new Date(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return (
    <div style={{ width: "100%", height }} data-testid="time-series-chart">
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
          <YAxis allowDecimals={false} stroke="var(--muted)" width={40} />
          <Tooltip labelFormatter={(t) => time(Number(t))} />
          <Legend />
          {series.map((s) => (
            <Line
              key={s.key}
              type="monotone"
              dataKey={s.key}
              name={s.label}
              stroke={s.color}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
