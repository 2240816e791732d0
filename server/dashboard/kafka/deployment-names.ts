// What a topic or a consumer group is for, read from the names the code gives them, and
// whether it belongs to this deployment (its topic prefix) or to another one on the same cluster.
import { TOPIC_NAMES } from "../../events/topics.ts";

export type GroupKind = "ingester" | "projector" | "participant" | "orchestrator" | "other";

export interface GroupOwner {
  kind: GroupKind;
  /** Whose group it is, in a few words (e.g. "projector, generation 2"). */
  label: string;
}

export interface DeploymentNames {
  /** SAGASCOPE_TOPIC_PREFIX of this deployment ("" when none). */
  prefix: string;
  /** SAGASCOPE_INGEST_GROUP of this deployment. */
  ingestGroup: string;
}

const CONTRACT_ROLES: Record<string, string> = {
  [TOPIC_NAMES.sagaEvents]: "saga events",
  [TOPIC_NAMES.control]: "control commands and results",
  [TOPIC_NAMES.breakerEvents]: "breaker events",
  [TOPIC_NAMES.projectionEvents]: "projection checkpoints",
  [TOPIC_NAMES.deadLetters]: "dead letters",
};

// Every topic and every group the processes create is named "<prefix>sagascope.…" (see
// server/events/topics.ts, server/projections, server/sagas/choreography), except the
// ingester's (configured) and a durable orchestrator's ("<its schema>.control").
const PROJECTOR = /sagascope\.projector\.g(\d+)$/;
const PROJECTOR_PEEK = /sagascope\.projector\.peek$/;
const LAG_PROBE = /sagascope\.lag-probe\.(.+)$/;
const PARTICIPANT = /sagascope\.fleet\.([\w-]+)\.([\w-]+?)(\.control)?$/;
const ORCHESTRATOR = /^([a-z_][a-z0-9_$]*)\.control$/;
const CHANGES = /sagascope\.fleet\.([\w-]+)\.changes$/;
const CHOREOGRAPHY = /sagascope\.fleet\.([\w-]+)$/;

/** The deployment a consumer group's lag samples belong to: deployments sharing a database keep apart. */
export const samplingScope = (names: DeploymentNames) => `${names.prefix}|${names.ingestGroup}`;

/** The topics this deployment's processes create all start with this. */
export const deploymentTopicStart = (names: Pick<DeploymentNames, "prefix">) => `${names.prefix}sagascope.`;

export function isDeploymentTopic(topic: string, names: Pick<DeploymentNames, "prefix">): boolean {
  return topic.startsWith(deploymentTopicStart(names));
}

/** A group belongs to the deployment by its name; one that reads its topics is added by the caller. */
export function isDeploymentGroupName(groupId: string, names: DeploymentNames): boolean {
  return groupId === names.ingestGroup || groupId.startsWith(deploymentTopicStart(names));
}

/** What a topic carries, or null for a topic the code does not name. */
export function topicRole(topic: string): string | null {
  if (topic.startsWith("__")) return "Kafka's own";
  const contract = Object.entries(CONTRACT_ROLES).find(([name]) => topic.endsWith(name));
  if (contract) return contract[1];
  const changes = CHANGES.exec(topic);
  if (changes) return `${changes[1]} changes`;
  const choreography = CHOREOGRAPHY.exec(topic);
  if (choreography) return `${choreography[1]} choreography`;
  return null;
}

export function groupOwner(groupId: string, names: Pick<DeploymentNames, "ingestGroup">): GroupOwner {
  if (groupId === names.ingestGroup) return { kind: "ingester", label: "ingester" };
  const projector = PROJECTOR.exec(groupId);
  if (projector) return { kind: "projector", label: `projector, generation ${projector[1]}` };
  if (PROJECTOR_PEEK.test(groupId))
    return { kind: "projector", label: "projector's lag probe (never commits)" };
  const lagProbe = LAG_PROBE.exec(groupId);
  if (lagProbe)
    return {
      kind: "ingester",
      label: `ingester's lag probe for the projection ${lagProbe[1]} (never commits)`,
    };
  const participant = PARTICIPANT.exec(groupId);
  if (participant) {
    const [, saga, service, control] = participant;
    return {
      kind: "participant",
      label: control ? `${saga} participant ${service}, control commands` : `${saga} participant ${service}`,
    };
  }
  const orchestrator = ORCHESTRATOR.exec(groupId);
  if (orchestrator)
    return { kind: "orchestrator", label: `durable orchestrator ${orchestrator[1]}, control commands` };
  return { kind: "other", label: "not named by Sagascope" };
}
