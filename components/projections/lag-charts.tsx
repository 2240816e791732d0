"use client";
// A projection's lag over time: changes behind per topic, and seconds behind (the worst
// partition's time lag and its oldest waiting change), for a chosen range.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { LagRangeSelect } from "@/components/ui/lag-range-select.tsx";
import { TimeSeriesChart } from "@/components/ui/time-series-chart.tsx";
import type { LagRange } from "@/server/dashboard/projections/lag-history.ts";

const PALETTE = ["var(--accent)", "var(--comp)", "var(--warn)", "var(--ok)", "var(--bad)", "var(--muted)"];
/** "e2e-x.sagascope.fleet.payment.changes" → "payment". */
const shortTopic = (topic: string) => topic.match(/\.fleet\.(.+)\.changes$/)?.[1] ?? topic;

export function LagCharts({ projection }: { projection: string }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<LagRange>("15m");
  const history = useQuery(
    trpc.projections.lagHistory.queryOptions({ range, projection }, { refetchInterval: 5000 }),
  );
  return (
    <>
      <div className="toolbar">
        <h2>Lag over time</h2>
        <LagRangeSelect value={range} onChange={setRange} label="Lag chart range" />
      </div>
      {history.isError ? (
        <ErrorPanel title="The lag history could not be loaded" message={history.error.message} />
      ) : history.isPending ? (
        <p className="muted">Loading…</p>
      ) : history.data.points.length === 0 ? (
        <p className="muted">No checkpoint in this range.</p>
      ) : (
        <div className="chart-pair" data-testid="lag-charts">
          <figure>
            <figcaption>Changes behind, per topic</figcaption>
            <TimeSeriesChart
              label="Changes behind per topic"
              data={history.data.points.map(
                (p) =>
                  ({
                    at: p.at,
                    ...Object.fromEntries(history.data.topics.map((t, i) => [`t${i}`, p.offsets[t] ?? 0])),
                  }) as { at: Date } & Record<`t${number}`, number>,
              )}
              series={history.data.topics.map((t, i) => ({
                key: `t${i}` as const,
                label: shortTopic(t),
                color: PALETTE[i % PALETTE.length] as string,
              }))}
            />
          </figure>
          <figure>
            <figcaption>Seconds behind (worst partition)</figcaption>
            <TimeSeriesChart
              label="Seconds behind"
              allowDecimals
              yFormat={(v) => `${v.toFixed(1)} s`}
              data={history.data.points.map((p) => ({
                at: p.at,
                timeLag: p.timeLagS,
                oldest: p.oldestWaitingS,
              }))}
              series={[
                { key: "timeLag", label: "time lag", color: "var(--accent)" },
                { key: "oldest", label: "oldest waiting change", color: "var(--bad)" },
              ]}
            />
          </figure>
        </div>
      )}
    </>
  );
}
