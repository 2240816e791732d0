// Topic names and partition keys of the contract, and the topics' creation.
import type { Admin } from "kafkajs";

export const TOPIC_NAMES = {
  /** Every saga event, keyed by saga id so that one saga's events stay in order. */
  sagaEvents: "sagascope.saga-events",
  /** Control commands to saga owners and their results, keyed by saga id. */
  control: "sagascope.control",
  /** Breaker state changes and stats windows, keyed by pair ("caller→callee"). */
  breakerEvents: "sagascope.breaker-events",
  /**
   * Operators' decisions for breakers of any library (forced state, expiry, thresholds), keyed
   * by pair and compacted: the newest message of a pair is what its breakers must do now.
   */
  breakerControl: "sagascope.breaker-control",
  /** Projectors' checkpoints (lag per partition), keyed by projection. */
  projectionEvents: "sagascope.projection-events",
  /** Messages a participant parked, reported with the reason and where they came from. */
  deadLetters: "sagascope.dead-letters",
} as const;

export type Topics = { [K in keyof typeof TOPIC_NAMES]: string };

export function topics(prefix: string): Topics {
  return Object.fromEntries(Object.entries(TOPIC_NAMES).map(([k, v]) => [k, `${prefix}${v}`])) as Topics;
}

export const sagaEventKey = (sagaId: string) => sagaId;

export const DEFAULT_PARTITIONS = 6;

/** Creates the missing topics (existing ones are left as they are) and waits until the broker serves them all. */
export async function ensureTopics(
  admin: Admin,
  names: string[],
  partitions = DEFAULT_PARTITIONS,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          ...(topic.endsWith(TOPIC_NAMES.breakerControl)
            ? { configEntries: [{ name: "cleanup.policy", value: "compact" }] }
            : {}),
        })),
      });
    } catch (error) {
      // Another process created one of them first (that is what we wanted), or the broker
      // is still settling the new topics (the wait below covers it).
      const retriable = (error as { retriable?: boolean }).retriable === true;
      if (!retriable && !String((error as Error).message).includes("already exists") && !isTopicRace(error))
        throw error;
    }
  }
  // A topic just created is not yet known everywhere in the broker ("does not host this
  // topic-partition"); a consumer subscribing or a producer sending now would fail. Wait until
  // its metadata answers with a leader for every partition (a loaded broker answers with the
  // topic before all its partitions are led).
  for (let attempt = 1; ; attempt += 1) {
    let problem: string;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const unled = topics.flatMap((t) =>
        t.partitions
          .filter((p) => p.partitionErrorCode !== 0 || p.leader < 0)
          .map((p) => `${t.name}[${p.partitionId}]`),
      );
      if (unled.length === 0) return;
      problem = `no leader yet for ${unled.join(", ")}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (attempt >= 60) throw new Error(`topics not ready after ${attempt} looks (15 s): ${problem}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function isTopicRace(error: unknown): boolean {
  const e = error as { type?: string; errors?: { type?: string }[] };
  const types = [e?.type, ...(e?.errors ?? []).map((x) => x?.type)];
  return types.some((t) => t === "TOPIC_ALREADY_EXISTS");
}

/** Commands and results go to the control topic, every other saga event to the saga events topic. */
export function topicOfSagaEvent(type: string, names: Pick<Topics, "sagaEvents" | "control">): string {
  return type.startsWith("io.sagascope.control.") ? names.control : names.sagaEvents;
}
