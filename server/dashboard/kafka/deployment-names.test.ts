// Whose group and which topic, from the names the processes give them.
import { describe, expect, it } from "vitest";
import { topics } from "../../events/topics.ts";
import { changeTopic } from "../../projections/change-events.ts";
import { projectorGroup } from "../../projections/fleet-topics.ts";
import { groupOwner, isDeploymentGroupName, isDeploymentTopic, topicRole } from "./deployment-names.ts";
import { consumerLag } from "./read-kafka.ts";

const names = { prefix: "run-1.", ingestGroup: "run-1.ingester" };

describe("groupOwner", () => {
  it.each([
    ["run-1.ingester", "ingester", "ingester"],
    [projectorGroup("run-1.", 3), "projector", "projector, generation 3"],
    ["run-1.sagascope.projector.peek", "projector", "projector's lag probe (never commits)"],
    [
      "run-1.sagascope.lag-probe.order-history",
      "ingester",
      "ingester's lag probe for the projection order-history (never commits)",
    ],
    ["run-1.sagascope.fleet.checkout.payment", "participant", "checkout participant payment"],
    [
      "run-1.sagascope.fleet.checkout.payment.control",
      "participant",
      "checkout participant payment, control commands",
    ],
    [
      "transfer_orchestrator.control",
      "orchestrator",
      "durable orchestrator transfer_orchestrator, control commands",
    ],
    ["sagascope-ingester", "other", "not named by Sagascope"],
    ["console-consumer-123", "other", "not named by Sagascope"],
  ] as const)("%s is the %s's", (groupId, kind, label) => {
    expect(groupOwner(groupId, names)).toEqual({ kind, label });
  });
});

describe("topicRole", () => {
  it("names the contract's topics, the change topics and the choreography topic", () => {
    const t = topics("run-1.");
    expect(topicRole(t.sagaEvents)).toBe("saga events");
    expect(topicRole(t.control)).toBe("control commands and results");
    expect(topicRole(t.breakerEvents)).toBe("breaker events");
    expect(topicRole(t.projectionEvents)).toBe("projection checkpoints");
    expect(topicRole(t.deadLetters)).toBe("dead letters");
    expect(topicRole(changeTopic("run-1.", "bank-a"))).toBe("bank-a changes");
    expect(topicRole("run-1.sagascope.fleet.checkout")).toBe("checkout choreography");
    expect(topicRole("__consumer_offsets")).toBe("Kafka's own");
    expect(topicRole("orders")).toBeNull();
  });
});

describe("belonging to the deployment", () => {
  it("goes by the prefix the processes put before sagascope.", () => {
    expect(isDeploymentTopic("run-1.sagascope.saga-events", names)).toBe(true);
    expect(isDeploymentTopic("run-2.sagascope.saga-events", names)).toBe(false);
    expect(isDeploymentTopic("sagascope.saga-events", names)).toBe(false);
    expect(isDeploymentTopic("sagascope.saga-events", { prefix: "" })).toBe(true);
    expect(isDeploymentTopic("run-1.sagascope.saga-events", { prefix: "" })).toBe(false);
    expect(isDeploymentGroupName("run-1.ingester", names)).toBe(true);
    expect(isDeploymentGroupName("run-1.sagascope.projector.g1", names)).toBe(true);
    expect(isDeploymentGroupName("transfer_orchestrator.control", names)).toBe(false);
  });
});

describe("consumerLag", () => {
  it.each([
    ["behind", 3, 10, 7],
    ["caught up", 10, 10, 0],
    ["committed after the log end was read", 12, 10, 0],
    ["never committed", null, 10, null],
    ["a partition that could not be read", 3, null, null],
  ] as const)("%s", (_what, committed, logEnd, lag) => {
    expect(consumerLag(committed, logEnd)).toBe(lag);
  });
});
