"use client";
// The cluster as Kafka reports it: brokers, consumer groups by lag with their members and
// per-partition lag, topics with their partitions and offsets; read afresh every three seconds.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import type { KafkaOverview } from "@/server/dashboard/kafka/read-kafka.ts";
import { Brokers } from "./kafka-brokers.tsx";
import { Groups } from "./kafka-groups.tsx";
import { useNow } from "./kafka-parts.tsx";
import { Topics } from "./kafka-topics.tsx";
import styles from "./kafka-view.module.css";

const REFRESH_MS = 3000;

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
