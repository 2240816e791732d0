// A consumer group held by "another tool": a kafkajs consumer whose partition assigner goes by
// a protocol name kafkajs's own assigners never offer. While it is a member, any other kafkajs
// consumer joining the group is refused with INCONSISTENT_GROUP_PROTOCOL, an error kafkajs
// treats as final (it crashes the consumer and does not restart it): the same path as a join
// on a fresh broker that has no coordinator for the group yet, but on demand and for as long
// as a test wants.
import { AssignerProtocol, type Kafka, type PartitionAssigner } from "kafkajs";

const PROTOCOL = "another-tools-assigner";

/** Assigns every partition of its topics to the first member. */
const anotherToolsAssigner: PartitionAssigner = ({ cluster }) => ({
  name: PROTOCOL,
  version: 1,
  async assign({ members, topics }) {
    const partitions = Object.fromEntries(
      topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).map((p) => p.partitionId)]),
    );
    return members.map(({ memberId }, i) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 1,
        assignment: i === 0 ? partitions : {},
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});

/** Joins `groupId` on `topics` and holds it until `release()`. */
export async function holdGroup(
  kafka: Kafka,
  groupId: string,
  topics: string[],
): Promise<{ release: () => Promise<void> }> {
  const holder = kafka.consumer({ groupId, partitionAssigners: [anotherToolsAssigner] });
  const joined = new Promise((r) => holder.on(holder.events.GROUP_JOIN, r));
  try {
    await holder.connect();
    await holder.subscribe({ topics });
    await holder.run({ autoCommit: false, eachMessage: async () => {} });
    await joined;
  } catch (error) {
    await holder.disconnect();
    throw error;
  }
  return { release: () => holder.disconnect() };
}
