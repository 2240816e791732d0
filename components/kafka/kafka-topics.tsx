"use client";
// Topics with their partitions, offsets and replication.
import { Fragment } from "react";
import type { TopicRow } from "@/server/dashboard/kafka/read-kafka.ts";
import { count, Expander, useToggles } from "./kafka-parts.tsx";
import styles from "./kafka-view.module.css";

function replication(topic: TopicRow): { text: string; bad: boolean } {
  const under = topic.partitions.filter((p) => p.isr.length < p.replicas.length).length;
  const leaderless = topic.partitions.filter((p) => p.leader < 0).length;
  const factors = [...new Set(topic.partitions.map((p) => p.replicas.length))].join("/");
  if (leaderless > 0) return { text: `${leaderless} without a leader`, bad: true };
  if (under > 0) return { text: `${under} under-replicated`, bad: true };
  return { text: `×${factors}, all in sync`, bad: false };
}

export function Topics({ topics }: { topics: TopicRow[] }) {
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
