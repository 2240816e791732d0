"use client";
// The cluster as Kafka reports it: brokers, consumer groups by lag with their members and
// per-partition lag, topics with their partitions and offsets; read afresh every three seconds.
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { Fragment, useEffect, useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import { TimeToClearCell } from "@/components/ui/time-to-clear-cell.tsx";
import type { GroupRow, KafkaOverview, TopicRow } from "@/server/dashboard/kafka/read-kafka.ts";
import type { TimeToClear } from "@/server/dashboard/projections/time-to-clear.ts";
import { GroupLagChart } from "./group-lag-chart.tsx";
import styles from "./kafka-view.module.css";

const REFRESH_MS = 3000;
const count = (n: number | null) => (n === null ? "—" : n.toLocaleString());

/** Re-renders every second so that relative ages keep moving between reads. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** A row button that shows or hides the detail row under it. */
function Expander({ open, onToggle, label }: { open: boolean; onToggle: () => void; label: string }) {
  return (
    <button
      type="button"
      className={styles.expander}
      aria-expanded={open}
      aria-label={`${open ? "Hide" : "Show"} ${label}`}
      onClick={onToggle}
    >
      {open ? "▾" : "▸"}
    </button>
  );
}

function useToggles(initial: string[] = []): [Set<string>, (key: string) => void] {
  const [open, setOpen] = useState<Set<string>>(() => new Set(initial));
  const toggle = (key: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  return [open, toggle];
}

function LagCell({ lag }: { lag: number | null }) {
  if (lag === null)
    return (
      <td className={`num ${styles.dim}`} title="no committed offset on this partition">
        —
      </td>
    );
  return <td className={`num ${lag > 0 ? styles.behind : ""}`}>{count(lag)}</td>;
}

function Brokers({ data }: { data: KafkaOverview }) {
  return (
    <div className={styles.brokers} data-testid="kafka-brokers">
      {data.cluster.map((b) => (
        <div key={b.nodeId} className={styles.broker}>
          <span className={styles.brokerId}>node {b.nodeId}</span>
          <span className="mono">
            {b.host}:{b.port}
          </span>
          {b.isController ? <span className={styles.controller}>controller</span> : null}
        </div>
      ))}
      <span className="small muted">
        cluster <span className="mono">{data.clusterId}</span> · reached through{" "}
        <span className="mono">{data.brokers.join(", ")}</span>
      </span>
    </div>
  );
}

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

function Groups({ groups, timesToClear }: { groups: GroupRow[]; timesToClear: Record<string, TimeToClear> }) {
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

function replication(topic: TopicRow): { text: string; bad: boolean } {
  const under = topic.partitions.filter((p) => p.isr.length < p.replicas.length).length;
  const leaderless = topic.partitions.filter((p) => p.leader < 0).length;
  const factors = [...new Set(topic.partitions.map((p) => p.replicas.length))].join("/");
  if (leaderless > 0) return { text: `${leaderless} without a leader`, bad: true };
  if (under > 0) return { text: `${under} under-replicated`, bad: true };
  return { text: `×${factors}, all in sync`, bad: false };
}

function Topics({ topics }: { topics: TopicRow[] }) {
  const [open, toggle] = useToggles();
  return (
    <table className="grid" data-testid="kafka-topics">
      <thead>
        <tr>
          <th aria-label="details" />
          <th>Topic</th>
          <th>Carries</th>
          <th className="num">Partitions</th>
          <th>Replicas</th>
          <th className="num">Messages</th>
        </tr>
      </thead>
      <tbody>
        {topics.map((t) => {
          const expanded = open.has(t.name);
          const r = replication(t);
          return (
            <Fragment key={t.name}>
              <tr data-topic={t.name}>
                <td>
                  <Expander
                    open={expanded}
                    onToggle={() => toggle(t.name)}
                    label={`partitions of ${t.name}`}
                  />
                </td>
                <td className="mono">{t.name}</td>
                <td className="muted">{t.role ?? "—"}</td>
                <td className="num" data-testid="topic-partitions">
                  {t.partitions.length}
                </td>
                <td className={r.bad ? "fail" : "muted"}>{r.text}</td>
                <td className="num" data-testid="topic-messages">
                  {t.offsetsError ? <span className="fail">{t.offsetsError}</span> : count(t.messages)}
                </td>
              </tr>
              {expanded ? (
                <tr className={styles.detailRow}>
                  <td colSpan={6}>
                    <table className={styles.inner} data-testid="topic-partition-table">
                      <thead>
                        <tr>
                          <th className="num">Partition</th>
                          <th className="num">Leader</th>
                          <th>Replicas</th>
                          <th>In sync</th>
                          <th className="num">Earliest</th>
                          <th className="num">Latest</th>
                          <th className="num">Messages</th>
                        </tr>
                      </thead>
                      <tbody>
                        {t.partitions.map((p) => (
                          <tr key={p.partition} data-partition={p.partition}>
                            <td className="num">{p.partition}</td>
                            <td className={`num ${p.leader < 0 ? "fail" : ""}`}>
                              {p.leader < 0 ? "none" : p.leader}
                            </td>
                            <td>{p.replicas.join(", ")}</td>
                            <td className={p.isr.length < p.replicas.length ? "fail" : ""}>
                              {p.isr.join(", ") || "none"}
                            </td>
                            <td className="num">{count(p.earliestOffset)}</td>
                            <td className="num">{count(p.latestOffset)}</td>
                            <td className="num">{count(p.messages)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
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

function Scope({ data }: { data: KafkaOverview }) {
  if (data.showAll) return <>every topic and group on the cluster</>;
  return (
    <>
      this deployment's topics (<span className="mono">{data.prefix}sagascope.*</span>) and the groups that
      read them; {data.hiddenTopics} other topic{data.hiddenTopics === 1 ? "" : "s"} and {data.hiddenGroups}{" "}
      other group
      {data.hiddenGroups === 1 ? "" : "s"} hidden
    </>
  );
}

export function KafkaView() {
  const trpc = useTRPC();
  const [showAll, setShowAll] = useState(false);
  const overview = useQuery(
    trpc.kafka.overview.queryOptions(
      { showAll },
      // No retry of its own: the next refresh is the retry, so a Kafka that is down is said at once.
      { refetchInterval: REFRESH_MS, retry: false, placeholderData: (previous) => previous },
    ),
  );
  const timesToClear = useQuery(
    trpc.kafka.timesToClear.queryOptions(undefined, { refetchInterval: REFRESH_MS }),
  );
  const now = useNow();
  const data = overview.data;
  const totalLag = data?.groups.reduce((n, g) => n + g.totalLag, 0) ?? 0;

  return (
    <section className={styles.page}>
      <div className="toolbar">
        <h1>Kafka</h1>
        <label className={styles.toggle}>
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} /> show
          every topic and group on the cluster
        </label>
        {data ? (
          <span
            className="small muted"
            data-testid="read-at"
            data-read-at={data.readAt.getTime()}
            title={formatTime(data.readAt)}
          >
            read {formatAge(data.readAt, now)} in {data.readMs} ms · every {REFRESH_MS / 1000} s
          </span>
        ) : null}
      </div>
      {overview.isError ? (
        <ErrorPanel
          title={
            data
              ? "Kafka cannot be read right now; below is the last successful read"
              : "Kafka cannot be read"
          }
          message={overview.error.message}
        />
      ) : null}
      {overview.isPending && !data ? (
        <p className="muted">Reading the cluster…</p>
      ) : !data ? null : (
        <div className={overview.isError ? styles.stale : undefined}>
          <h2>Brokers</h2>
          <Brokers data={data} />
          <p className="small muted">
            Showing <Scope data={data} />.
          </p>
          <div className={styles.figures}>
            <Figure label="topics" value={data.topics.length} />
            <Figure label="partitions" value={data.topics.reduce((n, t) => n + t.partitions.length, 0)} />
            <Figure label="messages retained" value={data.topics.reduce((n, t) => n + t.messages, 0)} />
            <Figure label="consumer groups" value={data.groups.length} />
            <Figure label="total lag" value={totalLag} bad={totalLag > 0} testId="total-lag" />
          </div>
          <h2>Consumer groups</h2>
          {data.groups.length === 0 ? (
            <div className="panel">
              <strong>No consumer group {data.showAll ? "on the cluster" : "reads these topics"} yet.</strong>
              <p className="muted">
                The ingester, the projector and the fleet's participants join theirs when they start (
                <code>npm run demo</code> starts them all).
              </p>
            </div>
          ) : (
            <Groups groups={data.groups} timesToClear={timesToClear.data?.groups ?? {}} />
          )}
          <h2>Topics</h2>
          {data.topics.length === 0 ? (
            <div className="panel">
              <strong>
                No topics {data.showAll ? "on the cluster" : `named ${data.prefix}sagascope.* on the cluster`}{" "}
                yet.
              </strong>
              <p className="muted">
                Every process creates the topics it uses when it starts; until then there is nothing to show.
              </p>
            </div>
          ) : (
            <Topics topics={data.topics} />
          )}
        </div>
      )}
    </section>
  );
}

function Figure({
  label,
  value,
  bad,
  testId,
}: {
  label: string;
  value: number;
  bad?: boolean;
  testId?: string;
}) {
  return (
    <div className={styles.figure} data-testid={testId} data-value={value}>
      <span className={`${styles.figureValue} ${bad ? styles.behind : ""}`}>{value.toLocaleString()}</span>
      <span className={styles.figureLabel}>{label}</span>
    </div>
  );
}
