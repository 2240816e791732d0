// Consumer groups declared to be projections: by the deployment's config
// (SAGASCOPE_PROJECTIONS, kept in step at every ingester start) or by an admin on the
// projections page. A declaration names the group and, optionally, the topics it reads;
// without topics, every topic the group has committed offsets on counts.
import { z } from "zod";
import type { Pool } from "../db/pool.ts";
import { PROJECTION } from "./read-model.ts";

/** The most projections that may be declared (each is sampled every few seconds). */
export const MAX_DECLARED_PROJECTIONS = 50;
/** The most topics one declaration may name. */
export const MAX_DECLARED_TOPICS = 50;

export const ProjectionNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, "1–100 letters, digits, '.', '_' or '-'")
  .refine((n) => n !== PROJECTION, `"${PROJECTION}" is the built-in projection's name`);

export const DeclarationSchema = z.object({
  name: ProjectionNameSchema,
  groupId: z.string().trim().min(1, "name the consumer group").max(255),
  topics: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9._-]{1,249}$/, "a Kafka topic name"),
    )
    .max(MAX_DECLARED_TOPICS, `at most ${MAX_DECLARED_TOPICS} topics`)
    .default([]),
});
export type Declaration = z.infer<typeof DeclarationSchema>;

export interface DeclaredProjection extends Declaration {
  origin: "config" | "dashboard";
  declaredBy: string;
  declaredAt: Date;
  sampledAt: Date | null;
  /** Why the last sample failed (the group or a topic does not exist…); null when it worked. */
  lastError: string | null;
}

/**
 * The config's spelling: `name=group` or `name=group@topic,topic`, separated by `;`.
 * For example `orders-view=orders-projector;billing=billing@invoices,refunds`.
 */
export function parseDeclarations(spec: string): Declaration[] {
  const entries = spec
    .split(";")
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length > MAX_DECLARED_PROJECTIONS)
    throw new Error(`at most ${MAX_DECLARED_PROJECTIONS} projections can be declared`);
  const out = entries.map((entry) => {
    const match = /^([^=]+)=([^@]+)(?:@(.*))?$/.exec(entry);
    if (!match) throw new Error(`"${entry}" is not name=group or name=group@topic,topic`);
    const [, name, groupId, topics] = match as unknown as [string, string, string, string | undefined];
    const parsed = DeclarationSchema.safeParse({
      name,
      groupId,
      topics: topics === undefined ? [] : topics.split(",").filter((t) => t.trim()),
    });
    if (!parsed.success)
      throw new Error(
        `"${entry}": ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
      );
    return parsed.data;
  });
  const names = out.map((d) => d.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`the projection "${twice}" is declared twice`);
  return out;
}

type Db = Pick<Pool, "query">;

interface Row {
  name: string;
  group_id: string;
  topics: string[];
  origin: "config" | "dashboard";
  declared_by: string;
  declared_at: Date;
  sampled_at: Date | null;
  last_error: string | null;
}

const fromRow = (r: Row): DeclaredProjection => ({
  name: r.name,
  groupId: r.group_id,
  topics: r.topics,
  origin: r.origin,
  declaredBy: r.declared_by,
  declaredAt: r.declared_at,
  sampledAt: r.sampled_at,
  lastError: r.last_error,
});

export async function listDeclared(db: Db): Promise<DeclaredProjection[]> {
  const { rows } = await db.query<Row>("SELECT * FROM declared_projection ORDER BY name");
  return rows.map(fromRow);
}

/** The config's declarations replace the earlier config's; an admin's declarations stay. */
export async function syncConfigDeclarations(db: Db, declarations: Declaration[]): Promise<void> {
  await db.query(
    `WITH wanted AS (
       SELECT * FROM json_to_recordset($1::json) AS w(name text, "groupId" text, topics text[])),
     gone AS (
       DELETE FROM declared_projection
       WHERE origin = 'config' AND name NOT IN (SELECT name FROM wanted))
     INSERT INTO declared_projection (name, group_id, topics, origin, declared_by)
     SELECT name, "groupId", topics, 'config', 'config' FROM wanted
     ON CONFLICT (name) DO UPDATE SET group_id = excluded.group_id, topics = excluded.topics,
       origin = 'config', declared_by = 'config', last_error = NULL`,
    [JSON.stringify(declarations)],
  );
}

/** What a change to the declarations came to, in words. */
export interface DeclarationOutcome {
  done: boolean;
  message: string;
}

/** An admin's declaration (or a change to one). Refused for config ones and past the cap. */
export async function declareProjection(db: Db, d: Declaration, by: string): Promise<DeclarationOutcome> {
  const { rows } = await db.query<{ outcome: string }>(
    `WITH existing AS (SELECT origin FROM declared_projection WHERE name = $1),
     counted AS (SELECT count(*)::int AS n FROM declared_projection),
     upserted AS (
       INSERT INTO declared_projection (name, group_id, topics, origin, declared_by)
       SELECT $1, $2, $3::text[], 'dashboard', $4
       WHERE NOT EXISTS (SELECT 1 FROM existing WHERE origin = 'config')
         AND (EXISTS (SELECT 1 FROM existing) OR (SELECT n FROM counted) < $5)
       ON CONFLICT (name) DO UPDATE SET group_id = excluded.group_id, topics = excluded.topics,
         declared_by = excluded.declared_by, declared_at = now(), sampled_at = NULL, last_error = NULL
       RETURNING 1)
     SELECT CASE WHEN EXISTS (SELECT 1 FROM upserted) THEN 'declared'
                 WHEN EXISTS (SELECT 1 FROM existing WHERE origin = 'config') THEN 'config'
                 ELSE 'full' END AS outcome`,
    [d.name, d.groupId, d.topics, by, MAX_DECLARED_PROJECTIONS],
  );
  const outcome = rows[0]?.outcome;
  if (outcome === "config") return { done: false, message: configOwned(d.name) };
  if (outcome === "full")
    return { done: false, message: `at most ${MAX_DECLARED_PROJECTIONS} projections can be declared` };
  return {
    done: true,
    message: `declared: ${d.name} is the consumer group ${d.groupId}${
      d.topics.length > 0 ? ` on ${d.topics.join(", ")}` : " on every topic it commits offsets on"
    }`,
  };
}

const configOwned = (name: string) =>
  `"${name}" is declared by the deployment's configuration (SAGASCOPE_PROJECTIONS); change it there`;

/**
 * Forget an admin's declaration, and the lag samples taken for it (left behind, they would
 * list it as a projection reporting its own checkpoints).
 */
export async function undeclareProjection(db: Db, name: string): Promise<DeclarationOutcome> {
  const { rows } = await db.query<{ origin: string }>(
    `WITH gone AS (DELETE FROM declared_projection WHERE name = $1 AND origin = 'dashboard' RETURNING origin),
     samples AS (DELETE FROM projection_lag_sample WHERE projection = $1 AND EXISTS (SELECT 1 FROM gone))
     SELECT origin FROM gone`,
    [name],
  );
  if (rows.length > 0) return { done: true, message: `${name} is no longer measured` };
  const config = await db.query("SELECT 1 FROM declared_projection WHERE name = $1", [name]);
  return {
    done: false,
    message: config.rows.length > 0 ? configOwned(name) : `no projection "${name}" is declared`,
  };
}

/** The declarations due for a sample, claimed so that one ingester among several takes each. */
export async function claimDue(db: Db, everyMs: number): Promise<Declaration[]> {
  const { rows } = await db.query<Row>(
    `UPDATE declared_projection SET sampled_at = now()
     WHERE sampled_at IS NULL OR sampled_at <= now() - make_interval(secs => $1::double precision / 1000)
     RETURNING *`,
    [everyMs * 0.8],
  );
  return rows.map(fromRow);
}

export async function recordSampleError(db: Db, name: string, error: string | null): Promise<void> {
  await db.query("UPDATE declared_projection SET last_error = $2 WHERE name = $1", [name, error]);
}
