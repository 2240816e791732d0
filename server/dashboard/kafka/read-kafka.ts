// The Kafka page's data, read from the cluster itself through its admin API: brokers, topics
// with their partitions and offsets, consumer groups with their members, and each group's lag
// (log-end offset minus the group's committed offset, per partition).
import { type Admin, AssignerProtocol, Kafka, logLevel } from "kafkajs";
import { AppError } from "../../errors.ts";
import {
  type DeploymentNames,
  type GroupOwner,
  groupOwner,
  isDeploymentGroupName,
  isDeploymentTopic,
  topicRole,
} from "./deployment-names.ts";

export interface KafkaTarget extends DeploymentNames {
  brokers: string[];
}

export interface ReadKafkaOptions {
  /** Every topic and group on the cluster, not only this deployment's. */
  showAll?: boolean;
  /** The whole read fails as "unreachable" past this. */
  deadlineMs?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface BrokerRow {
  nodeId: number;
  host: string;
  port: number;
  isController: boolean;
}

export interface TopicPartitionRow {
  partition: number;
  /** Node id of the leader; -1 when the partition has none (offline). */
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** Earliest offset still in the log, or null when the partition could not be read. */
  earliestOffset: number | null;
  /** Log-end offset (the next offset to be written). */
  latestOffset: number | null;
  /** latest − earliest: the messages retained (a compacted topic may hold fewer). */
  messages: number | null;
}

export interface TopicRow {
  name: string;
  role: string | null;
  partitions: TopicPartitionRow[];
  messages: number;
  /** Why the offsets are missing, when the broker refused them for this topic. */
  offsetsError: string | null;
}

export interface GroupMemberRow {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupPartitionRow {
  topic: string;
  partition: number;
  /** The group's committed offset (the next it will read), or null when it never committed here. */
  committedOffset: number | null;
  logEndOffset: number | null;
  /** logEnd − committed; null without a commit (where it would start depends on the consumer). */
  lag: number | null;
  /** Client id of the member the partition is assigned to now, if any. */
  assignedTo: string | null;
}

export interface GroupRow {
  groupId: string;
  owner: GroupOwner;
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead… as the coordinator says. */
  state: string;
  protocolType: string;
  /** The partition assignor the members agreed on ("" when the group has no members). */
  protocol: string;
  members: GroupMemberRow[];
  partitions: GroupPartitionRow[];
  totalLag: number;
}

export interface KafkaOverview {
  brokers: string[];
  clusterId: string;
  cluster: BrokerRow[];
  prefix: string;
  showAll: boolean;
  topics: TopicRow[];
  /** Topics on the cluster not shown (other deployments', Kafka's own). */
  hiddenTopics: number;
  /** Sorted by total lag, largest first. */
  groups: GroupRow[];
  hiddenGroups: number;
  readAt: Date;
  readMs: number;
}

/** Kafka did not answer, or not in time: the page says so with the brokers it tried. */
export class KafkaUnavailableError extends AppError {
  override name = "KafkaUnavailableError";
  constructor(
    readonly brokers: string[],
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super("UNAVAILABLE", `Kafka is unreachable at ${brokers.join(", ")}: ${reason}`, options);
  }
}

/**
 * Reads the cluster with an admin client of its own, connected for this read and closed after.
 * A fresh client per read (rather than one kept in the tRPC context) costs one connection and a
 * metadata round trip, milliseconds next to the page's refresh of a few seconds; in exchange every
 * read meets the cluster as it is now with short timeouts, so a broker that went away is reported
 * within the deadline and one that came back is simply used again, with no reconnection state to
 * go stale, and the web process keeps no Kafka connection while nobody looks at the page.
 */
export async function readKafka(target: KafkaTarget, options: ReadKafkaOptions = {}): Promise<KafkaOverview> {
  const deadlineMs = options.deadlineMs ?? 6000;
  const kafka = new Kafka({
    clientId: "sagascope-web-kafka-page",
    brokers: target.brokers,
    // A failure is the page's answer (KafkaUnavailableError), not something to log on every refresh.
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 1000,
    requestTimeout: options.requestTimeoutMs ?? 4000,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KafkaUnavailableError(target.brokers, `no answer within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([readCluster(admin, target, options.showAll ?? false), late]);
  } catch (error) {
    throw error instanceof AppError
      ? error
      : new KafkaUnavailableError(target.brokers, reasonOf(error), { cause: error });
  } finally {
    clearTimeout(timer);
    admin.disconnect().catch(() => undefined);
  }
}

async function readCluster(admin: Admin, target: KafkaTarget, showAll: boolean): Promise<KafkaOverview> {
  const started = Date.now();
  await admin.connect();
  const [cluster, metadata, listed] = await Promise.all([
    admin.describeCluster(),
    admin.fetchTopicMetadata(),
    admin.listGroups(),
  ]);
  const shownTopics = metadata.topics
    .filter((t) => showAll || isDeploymentTopic(t.name, target))
    .sort((a, b) => a.name.localeCompare(b.name));
  const topics = await mapLimit(shownTopics, 8, async (t): Promise<TopicRow> => {
    const { offsets, error } = await topicOffsets(admin, t.name);
    const partitions = t.partitions
      .map((p): TopicPartitionRow => {
        const o = offsets.get(p.partitionId);
        return {
          partition: p.partitionId,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offlineReplicas ?? [],
          earliestOffset: o?.low ?? null,
          latestOffset: o?.high ?? null,
          messages: o ? o.high - o.low : null,
        };
      })
      .sort((a, b) => a.partition - b.partition);
    return {
      name: t.name,
      role: topicRole(t.name),
      partitions,
      messages: partitions.reduce((n, p) => n + (p.messages ?? 0), 0),
      offsetsError: error,
    };
  });
  const logEnds = new Map(
    topics.flatMap((t) =>
      t.partitions.map((p) => [partitionKey(t.name, p.partition), p.latestOffset] as const),
    ),
  );

  const groupIds = listed.groups.map((g) => g.groupId);
  const described = groupIds.length > 0 ? (await admin.describeGroups(groupIds)).groups : [];
  const committedByGroup = new Map(
    await mapLimit(groupIds, 8, async (groupId) => [groupId, await admin.fetchOffsets({ groupId })] as const),
  );
  const groups: GroupRow[] = [];
  for (const g of described) {
    const members = g.members.map((m): GroupMemberRow => {
      const decoded = g.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : {};
      return {
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: Object.entries(decoded)
          .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
          .sort((a, b) => a.topic.localeCompare(b.topic)),
      };
    });
    const rows = new Map<string, GroupPartitionRow>();
    const row = (topic: string, partition: number) => {
      const key = partitionKey(topic, partition);
      let r = rows.get(key);
      if (!r) {
        r = { topic, partition, committedOffset: null, logEndOffset: null, lag: null, assignedTo: null };
        rows.set(key, r);
      }
      return r;
    };
    for (const m of members)
      for (const a of m.assignment)
        for (const p of a.partitions)
          if (logEnds.has(partitionKey(a.topic, p))) row(a.topic, p).assignedTo = m.clientId;
    for (const c of committedByGroup.get(g.groupId) ?? [])
      for (const p of c.partitions) {
        const committed = Number(p.offset);
        if (committed >= 0 && logEnds.has(partitionKey(c.topic, p.partition)))
          row(c.topic, p.partition).committedOffset = committed;
      }
    for (const r of rows.values()) {
      r.logEndOffset = logEnds.get(partitionKey(r.topic, r.partition)) ?? null;
      r.lag = consumerLag(r.committedOffset, r.logEndOffset);
    }
    const partitions = [...rows.values()].sort(
      (a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition,
    );
    if (!showAll && partitions.length === 0 && !isDeploymentGroupName(g.groupId, target)) continue;
    groups.push({
      groupId: g.groupId,
      owner: groupOwner(g.groupId, target),
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members,
      partitions,
      totalLag: partitions.reduce((n, p) => n + (p.lag ?? 0), 0),
    });
  }
  groups.sort((a, b) => b.totalLag - a.totalLag || a.groupId.localeCompare(b.groupId));

  return {
    brokers: target.brokers,
    clusterId: cluster.clusterId,
    cluster: cluster.brokers
      .map((b) => ({ ...b, isController: b.nodeId === cluster.controller }))
      .sort((a, b) => a.nodeId - b.nodeId),
    prefix: target.prefix,
    showAll,
    topics,
    hiddenTopics: metadata.topics.length - topics.length,
    groups,
    hiddenGroups: described.length - groups.length,
    readAt: new Date(),
    readMs: Date.now() - started,
  };
}

/** A group's lag on one partition: what was written past its committed offset. */
export function consumerLag(committed: number | null, logEnd: number | null): number | null {
  if (committed === null || logEnd === null) return null;
  return Math.max(0, logEnd - committed);
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Earliest and latest offsets per partition; a topic the broker cannot serve right now says why. */
async function topicOffsets(
  admin: Admin,
  topic: string,
): Promise<{ offsets: Map<number, { low: number; high: number }>; error: string | null }> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return {
      offsets: new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }])),
      error: null,
    };
  } catch (error) {
    // A partition without a leader, or a topic deleted while we read: that topic's problem only.
    // Anything else (the connection) fails the whole read.
    if (!protocolError(error)) throw error;
    return { offsets: new Map(), error: reasonOf(error) };
  }
}

function decodeAssignment(raw: Buffer): Record<string, number[]> {
  if (raw.length === 0) return {};
  try {
    return AssignerProtocol.MemberAssignment.decode(raw)?.assignment ?? {};
  } catch {
    // A member of a consumer group using a foreign assignment format: shown without its partitions.
    return {};
  }
}

/** The innermost message: kafkajs wraps a refused connection in "retries exceeded". */
function reasonOf(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e && typeof e.cause === "object" && e.cause !== null && "message" in e.cause)
    e = e.cause as typeof e;
  return e?.message || String(error);
}

/** Whether the broker answered with an error code (it has a type), rather than not at all. */
function protocolError(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    if (typeof e.type === "string") return true;
  return false;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
