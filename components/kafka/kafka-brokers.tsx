"use client";
// The cluster's brokers, as Kafka reports them.
import type { KafkaOverview } from "@/server/dashboard/kafka/read-kafka.ts";
import styles from "./kafka-view.module.css";

export function Brokers({ data }: { data: KafkaOverview }) {
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
