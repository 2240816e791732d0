"use client";
// One consumer group's lag over time, from the ingester's samples (one every
// SAGASCOPE_GROUP_SAMPLE_MS), for a chosen range.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { LagRangeSelect } from "@/components/ui/lag-range-select.tsx";
import { TimeSeriesChart } from "@/components/ui/time-series-chart.tsx";
import type { LagRange } from "@/server/dashboard/projections/lag-history.ts";
import styles from "./kafka-view.module.css";

export function GroupLagChart({ groupId }: { groupId: string }) {
  const trpc = useTRPC();
  const [range, setRange] = useState<LagRange>("15m");
  const history = useQuery(
    trpc.kafka.groupLagHistory.queryOptions({ groupId, range }, { refetchInterval: 5000 }),
  );
  return (
    <div data-testid="group-lag-history">
      <div className="toolbar">
        <h3 className={styles.detailTitle}>Lag over time</h3>
        <LagRangeSelect
          value={range}
          onChange={setRange}
          label={`Lag chart range of ${groupId}`}
          className="small"
        />
      </div>
      {history.isError ? (
        <ErrorPanel title="The lag history could not be loaded" message={history.error.message} />
      ) : history.isPending ? (
        <p className="muted small">Loading…</p>
      ) : history.data.points.length === 0 ? (
        <p className="muted small">
          No sample in this range: the ingester samples the deployment's groups every few seconds.
        </p>
      ) : (
        <figure
          data-testid="group-lag-chart"
          data-points={history.data.points.length}
          data-last-lag={history.data.points.at(-1)?.lag}
        >
          <TimeSeriesChart
            label={`Lag of ${groupId}`}
            height={180}
            data={history.data.points.map((p) => ({ at: p.at, lag: p.lag }))}
            series={[{ key: "lag", label: "messages behind", color: "var(--accent)" }]}
          />
        </figure>
      )}
    </div>
  );
}
