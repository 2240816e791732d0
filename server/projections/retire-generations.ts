// Old generations of the read model, dropped after a switch: each is a whole schema and a
// consumer group, kept only as long as someone may want to switch back. The newest `keep`
// generations up to the active one stay; an older one goes once no projector reads it any
// more (running projectors follow a switch within seconds; one that does not is waited for,
// then its generation is left in place and said so, never pulled from under it).
import type { Admin } from "kafkajs";
import type { Pool } from "../db/pool.ts";
import { serializedDdl } from "../db/serialized-ddl.ts";
import type { Logger } from "../log.ts";
import { projectorGroup } from "./fleet-topics.ts";
import { schemaOf } from "./read-model.ts";

export interface RetiredGenerations {
  dropped: number[];
  /** Generations left in place because a projector still read them. */
  stillRead: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function membersOf(admin: Admin, groupId: string): Promise<number> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.members.length ?? 0;
}

export async function retireGenerations(deps: {
  pool: Pool;
  admin: Admin;
  topicPrefix: string;
  active: number;
  keep: number;
  log: Logger;
  /** How long to wait for a projector of an old generation to follow the switch. */
  waitMs?: number;
}): Promise<RetiredGenerations> {
  const { pool, admin, log } = deps;
  const existing = await pool.query<{ generation: number }>(
    `SELECT substring(nspname FROM 'projection_g([0-9]+)$')::int AS generation
     FROM pg_namespace WHERE nspname ~ '^projection_g[0-9]+$' ORDER BY 1`,
  );
  const old = existing.rows.map((r) => r.generation).filter((g) => g <= deps.active - deps.keep);
  const result: RetiredGenerations = { dropped: [], stillRead: [] };
  for (const generation of old) {
    const groupId = projectorGroup(deps.topicPrefix, generation);
    const deadline = Date.now() + (deps.waitMs ?? 30_000);
    let members = await membersOf(admin, groupId);
    while (members > 0 && Date.now() < deadline) {
      await sleep(500);
      members = await membersOf(admin, groupId);
    }
    if (members > 0) {
      log.warn("old generation still read by a projector; left in place", { generation, groupId });
      result.stillRead.push(generation);
      continue;
    }
    // A group that never committed (or was deleted before) is not there to delete.
    await admin.deleteGroups([groupId]).catch((error: { groups?: { error?: { type?: string } }[] }) => {
      if (error.groups?.[0]?.error?.type !== "GROUP_ID_NOT_FOUND") throw error;
    });
    await serializedDdl(pool, "projection", [`DROP SCHEMA IF EXISTS ${schemaOf(generation)} CASCADE`]);
    result.dropped.push(generation);
  }
  if (result.dropped.length > 0) log.info("old generations dropped", { generations: result.dropped });
  return result;
}
