"use client";
// One projection's lag per partition at its latest checkpoint.
import { formatAge, formatDuration, formatTime } from "@/components/ui/format.ts";
import type { PartitionLagRow } from "@/server/dashboard/projections/projection-list.ts";

export function PartitionLagTable({ lag }: { lag: PartitionLagRow[] }) {
  const now = Date.now();
  if (lag.length === 0) return <p className="muted">No checkpoint received yet.</p>;
  return (
    <table className="grid" data-testid="projection-lag">
      <thead>
        <tr>
          <th>Topic</th>
          <th>Partition</th>
          <th>Committed</th>
          <th>Log end</th>
          <th>Offset lag</th>
          <th>Time lag</th>
          <th>Oldest waiting</th>
          <th>Sampled</th>
        </tr>
      </thead>
      <tbody>
        {lag.map((l) => (
          <tr key={`${l.topic}/${l.partition}`}>
            <td className="mono small">{l.topic}</td>
            <td>{l.partition}</td>
            <td>{l.committedOffset}</td>
            <td>{l.logEndOffset}</td>
            <td className={l.offsetLag > 0 ? "fail" : ""}>{l.offsetLag}</td>
            <td>{l.timeLagMs === null ? "—" : formatDuration(l.timeLagMs)}</td>
            <td>{l.oldestUnappliedAgeMs === null ? "—" : formatDuration(l.oldestUnappliedAgeMs)}</td>
            <td title={formatTime(l.sampledAt)}>{formatAge(l.sampledAt, now)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
