"use client";
// Consumer groups by lag: members, per-partition lag, when the lag clears, and its chart.
import { useSearchParams } from "next/navigation";
import { Fragment } from "react";
import { TimeToClearCell } from "@/components/ui/time-to-clear-cell.tsx";
import type { GroupRow } from "@/server/dashboard/kafka/read-kafka.ts";
import type { TimeToClear } from "@/server/dashboard/projections/time-to-clear.ts";
import { GroupLagChart } from "./group-lag-chart.tsx";
import { count, Expander, LagCell, useToggles } from "./kafka-parts.tsx";
import styles from "./kafka-view.module.css";

function GroupDetail({ group }: { group: GroupRow }) {
  return (
    <div className={styles.detail}>
      <div>
        <h3 className={styles.detailTitle}>Lag per partition</h3>
        {group.partitions.length === 0 ? (
          <p className="muted small">No committed offsets and no assignment on the topics shown.</p>
        ) : (
          <div className={styles.scroll}>
            <table className={styles.inner} data-testid="group-partitions">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th className="num">Partition</th>
                  <th className="num">Committed</th>
                  <th className="num">Log end</th>
                  <th className="num">Lag</th>
                  <th>Assigned to</th>
                </tr>
              </thead>
              <tbody>
                {group.partitions.map((p, i) => (
                  <tr
                    key={`${p.topic}/${p.partition}`}
                    data-partition={`${p.topic}/${p.partition}`}
                    data-committed={p.committedOffset ?? ""}
                    data-log-end={p.logEndOffset ?? ""}
                    data-lag={p.lag ?? ""}
                  >
                    {/* The topic once, on its first partition: the rows read as one block per topic. */}
                    <td className="mono small">
                      {group.partitions[i - 1]?.topic === p.topic ? "" : p.topic}
                    </td>
                    <td className="num">{p.partition}</td>
                    <td className="num">{p.committedOffset === null ? "none" : count(p.committedOffset)}</td>
                    <td className="num">{count(p.logEndOffset)}</td>
                    <LagCell lag={p.lag} />
                    <td className="mono small">
                      {p.assignedTo ?? <span className="muted">unassigned</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div>
        <h3 className={styles.detailTitle}>Members</h3>
        {group.members.length === 0 ? (
          <p className="muted small">No member is connected; the committed offsets wait for one.</p>
        ) : (
          <ul className={styles.members}>
            {group.members.map((m) => (
              <li key={m.memberId}>
                <span className="mono">{m.clientId}</span> <span className="muted">on {m.clientHost}</span>
                <div className="small muted mono" title="member id">
                  {m.memberId}
                </div>
                {m.assignment.length === 0 ? (
                  <div className="small muted">no partitions assigned</div>
                ) : (
                  <ul className={`small ${styles.assignment}`}>
                    {m.assignment.map((a) => (
                      <li key={a.topic}>
                        <span className="mono">{a.topic}</span>{" "}
                        <span className="muted">partitions {a.partitions.join(", ")}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className={styles.wide}>
        <GroupLagChart groupId={group.groupId} />
      </div>
    </div>
  );
}

/** A group without recent samples: just appeared, or another deployment's (shown with "every group"). */
const NOT_SAMPLED: TimeToClear = {
  kind: "unknown",
  why: "no sample in the last minute: the ingester samples this deployment's groups every few seconds",
};

export function Groups({
  groups,
  timesToClear,
}: {
  groups: GroupRow[];
  timesToClear: Record<string, TimeToClear>;
}) {
  // `?group=` (an alert's link) opens that group and marks its row.
  const focused = useSearchParams().get("group");
  const [open, toggle] = useToggles(focused ? [focused] : []);
  return (
    <table className="grid" data-testid="kafka-groups">
      <thead>
        <tr>
          <th aria-label="details" />
          <th>Group</th>
          <th>Whose</th>
          <th>State</th>
          <th className="num">Members</th>
          <th className="num">Partitions</th>
          <th className="num">Lag</th>
          <th>Clears</th>
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => {
          const expanded = open.has(g.groupId);
          return (
            <Fragment key={g.groupId}>
              <tr
                data-group-id={g.groupId}
                data-owner={g.owner.kind}
                aria-current={g.groupId === focused ? "true" : undefined}
                className={g.groupId === focused ? styles.focused : undefined}
              >
                <td>
                  <Expander open={expanded} onToggle={() => toggle(g.groupId)} label={`group ${g.groupId}`} />
                </td>
                <td className="mono">{g.groupId}</td>
                <td>
                  <span className={`${styles.owner} ${styles[`owner-${g.owner.kind}`] ?? ""}`}>
                    {g.owner.label}
                  </span>
                </td>
                <td>
                  <span
                    className={`badge ${styles[`state-${g.state}`] ?? styles.stateOther}`}
                    data-testid="group-state"
                  >
                    {g.state}
                  </span>
                </td>
                <td
                  className="num"
                  title={g.members.map((m) => `${m.clientId} on ${m.clientHost}`).join("\n")}
                >
                  {g.members.length}
                </td>
                <td className="num">{g.partitions.length}</td>
                <td
                  className={`num ${styles.lag} ${g.totalLag > 0 ? styles.behind : ""}`}
                  data-testid="group-lag"
                  data-lag={g.totalLag}
                >
                  {count(g.totalLag)}
                </td>
                <TimeToClearCell estimate={timesToClear[g.groupId] ?? NOT_SAMPLED} />
              </tr>
              {expanded ? (
                <tr className={styles.detailRow}>
                  <td colSpan={8}>
                    <GroupDetail group={g} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
