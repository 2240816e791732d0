// Samples the lag of every declared projection (a consumer group the deployment or an admin
// named) every few seconds and stores it as that projection's checkpoint, so it has lag now
// and over time like the built-in one. Several ingesters share the work: each sample is
// claimed first. A sample that fails (no such group or topic) is recorded on the declaration.
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import type { Logger } from "../log.ts";
import { createPeriodic } from "../periodic.ts";
import { claimDue, type Declaration, recordSampleError } from "../projections/declared-projections.ts";
import { GroupLagError, measureGroupLag, topicsOf } from "../projections/group-lag.ts";
import {
  createOldestUnappliedProbe,
  type OldestUnappliedProbe,
  recordTime,
} from "../projections/oldest-unapplied.ts";
import { insertProjectionEvents } from "./store-projection-events.ts";

export interface DeclaredProjectionSampler {
  start(): void;
  stop(): Promise<void>;
  /** One round: every declaration due; returns the names sampled. */
  sampleDue(): Promise<string[]>;
}

/** The lag probe's group for a declared projection (it never commits). */
export const lagProbeGroup = (prefix: string, name: string) => `${prefix}sagascope.lag-probe.${name}`;

export function createDeclaredProjectionSampler(deps: {
  kafka: Kafka;
  pool: Pool;
  topicPrefix: string;
  everyMs: number;
  source: string;
  log: Logger;
}): DeclaredProjectionSampler {
  const admin = deps.kafka.admin();
  let connected = false;
  const probes = new Map<string, { topics: string; probe: OldestUnappliedProbe }>();

  async function probeFor(name: string, topics: string[]): Promise<OldestUnappliedProbe> {
    const key = topics.join(",");
    const known = probes.get(name);
    if (known?.topics === key) return known.probe;
    await known?.probe.stop();
    const probe = createOldestUnappliedProbe(
      deps.kafka,
      lagProbeGroup(deps.topicPrefix, name),
      topics,
      deps.log.child(`peek ${name}`),
      recordTime,
    );
    await probe.start();
    probes.set(name, { topics: key, probe });
    return probe;
  }

  async function sampleOne(d: Declaration): Promise<void> {
    const topics = await topicsOf(admin, d.groupId, d.topics);
    const partitions = await measureGroupLag(admin, d.groupId, topics, () => probeFor(d.name, topics));
    await insertProjectionEvents(deps.pool, [
      {
        id: randomUUID(),
        source: deps.source,
        type: "io.sagascope.projection.checkpoint",
        time: new Date(),
        data: { projection: d.name, generation: 1, groupId: d.groupId, active: true, partitions },
      },
    ]);
  }

  async function sampleDue(): Promise<string[]> {
    if (!connected) {
      await admin.connect();
      connected = true;
    }
    const due = await claimDue(deps.pool, deps.everyMs);
    for (const d of due) {
      try {
        await sampleOne(d);
        await recordSampleError(deps.pool, d.name, null);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!(error instanceof GroupLagError))
          deps.log.warn("declared projection not sampled", { projection: d.name, error: message });
        await recordSampleError(deps.pool, d.name, message.slice(0, 500));
      }
    }
    await forgetUndeclared();
    return due.map((d) => d.name);
  }

  async function forgetUndeclared(): Promise<void> {
    if (probes.size === 0) return;
    const { rows } = await deps.pool.query<{ name: string }>("SELECT name FROM declared_projection");
    const declared = new Set(rows.map((r) => r.name));
    for (const [name, { probe }] of probes)
      if (!declared.has(name)) {
        probes.delete(name);
        await probe.stop();
      }
  }

  const rounds = createPeriodic(deps.everyMs, sampleDue, (error) =>
    deps.log.warn("declared projections not sampled", { error: String(error) }),
  );

  return {
    start: rounds.start,
    async stop() {
      await rounds.stop();
      for (const { probe } of probes.values()) await probe.stop();
      probes.clear();
      if (connected) await admin.disconnect();
      connected = false;
    },
    sampleDue,
  };
}
