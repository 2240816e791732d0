// A topic whose messages wait, written but not yet readable, until a consumer group has
// settled on it: they are sent inside a Kafka transaction that is committed only then (the
// ingester reads committed messages only, kafkajs's default). Without it, the process that
// joins a new group first takes every partition (the test broker starts a group at once) and
// stores most of the topic before the group rebalances, and what it had not committed is
// handed to the other process again: a run of two processes then measures a rebalance.
import { randomUUID } from "node:crypto";
import { type Admin, AssignerProtocol, type Kafka, type Message } from "kafkajs";

/** Messages a transaction's send carries at most (well under the broker's 1 MiB a partition's batch). */
const SEND_CHUNK = 2000;
/** How long the transaction may stay open before the broker aborts it. */
const TRANSACTION_TIMEOUT_MS = 180_000;

export interface HeldMessages {
  /** Commits the transaction: every message becomes readable at once. */
  release(): Promise<void>;
  /** Aborts it (a run that failed before releasing). */
  abort(): Promise<void>;
}

/** Sends `messages` to `topic` in one open transaction. */
export async function holdMessages(kafka: Kafka, topic: string, messages: Message[]): Promise<HeldMessages> {
  const producer = kafka.producer({
    transactionalId: `bench-held-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: TRANSACTION_TIMEOUT_MS,
  });
  await producer.connect();
  const transaction = await producer.transaction();
  const end = async (how: "commit" | "abort") => {
    try {
      await transaction[how]();
    } finally {
      await producer.disconnect();
    }
  };
  try {
    for (let i = 0; i < messages.length; i += SEND_CHUNK)
      await transaction.send({ topic, messages: messages.slice(i, i + SEND_CHUNK) });
  } catch (error) {
    await end("abort").catch(() => {});
    throw error;
  }
  return { release: () => end("commit"), abort: () => end("abort") };
}

/** Waits until `groupId` is stable with `members` members, each holding at least one partition. */
export async function waitForSettledGroup(
  admin: Admin,
  groupId: string,
  members: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    const holding = (group?.members ?? []).filter((m) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return Object.values(decoded?.assignment ?? {}).some((partitions) => partitions.length > 0);
    });
    if (group?.state === "Stable" && group.members.length === members && holding.length === members) return;
    if (Date.now() > deadline)
      throw new Error(
        `consumer group ${groupId} did not settle with ${members} members holding partitions in ${timeoutMs} ms (state ${group?.state}, ${holding.length} of ${group?.members.length ?? 0} holding)`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
