// Saving, deleting and choosing the landing view: what a user may do with the named filters of
// the saga list and the audit log. Each goes through performAction (permission, idempotency,
// audit) in the router; this module says what the change is and carries it out.
import { z } from "zod";
import type { Actor, Permission } from "../../browser-safe/roles.ts";
import type { Pool } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import {
  checkViewQuery,
  VIEW_NAME_MAX,
  VIEW_PAGES,
  VIEW_QUERY_MAX,
  VIEWS_PER_USER,
  type ViewPage,
} from "../views/view-query.ts";
import type { Outcome } from "./perform-action.ts";

const idempotencyKey = z.string().min(8).max(100);
const viewId = z.uuid();

export const ViewActionSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("save"),
    page: z.enum(VIEW_PAGES),
    name: z.string().trim().min(1).max(VIEW_NAME_MAX),
    query: z.string().max(VIEW_QUERY_MAX),
    shared: z.boolean().default(false),
    idempotencyKey,
  }),
  z.object({ op: z.literal("delete"), id: viewId, idempotencyKey }),
  /** `id` null: land on the overview again. */
  z.object({ op: z.literal("landing"), id: viewId.nullable(), idempotencyKey }),
]);
export type ViewAction = z.infer<typeof ViewActionSchema>;

type Db = Pick<Pool, "query">;

interface ViewRow {
  id: string;
  page: ViewPage;
  name: string;
  owner: string;
  shared: boolean;
}

async function viewById(db: Db, id: string): Promise<ViewRow | undefined> {
  const { rows } = await db.query<ViewRow>(
    "SELECT id, page, name, owner, shared FROM saved_view WHERE id = $1",
    [id],
  );
  return rows[0];
}

/** What the action is, for performAction: its name, the permission it needs and its target. */
export async function describeViewAction(
  db: Db,
  actor: Actor,
  input: ViewAction,
): Promise<{ action: string; permission: Permission; target: string; params: Record<string, unknown> }> {
  switch (input.op) {
    case "save":
      return {
        action: "views.save",
        permission: input.shared ? "views.share" : "views.save",
        target: `view:${input.page}/${input.name}`,
        params: { query: input.query, shared: input.shared },
      };
    case "delete": {
      const view = await viewById(db, input.id);
      // Another user's shared view is an admin's to delete; a missing one is refused below.
      const others = view !== undefined && view.owner !== actor.id;
      return {
        action: "views.delete",
        permission: others ? "views.manage" : "views.save",
        target: view ? `view:${view.page}/${view.name}` : `view:${input.id}`,
        params: { id: input.id },
      };
    }
    case "landing":
      return {
        action: "views.landing",
        permission: "views.save",
        target: input.id ? `view:${input.id}` : "view:none",
        params: { id: input.id },
      };
  }
}

/** Carries out an action performAction has let through. */
export async function applyViewAction(pool: Pool, actor: Actor, input: ViewAction): Promise<Outcome> {
  const db: Db = pool;
  switch (input.op) {
    case "save": {
      const checked = checkViewQuery(input.page, input.query);
      if (!checked.ok) return { phase: "refused", message: `refused: ${checked.problem}` };
      // Saving under a name the user already has replaces that view (its filter and sharing).
      // One user's saves queue on a lock of theirs, so that two at once cannot pass the limit.
      const { rows } = await withTransaction(pool, async (db) => {
        await db.query("SELECT pg_advisory_xact_lock(hashtext('saved_view'), hashtext($1))", [actor.id]);
        return db.query<{ id: string; created: boolean }>(
          `INSERT INTO saved_view (page, name, query, owner, owner_email, shared)
         SELECT $1, $2, $3, $4, $5, $6
         WHERE (SELECT count(*) FROM saved_view WHERE owner = $4) < $7
            OR EXISTS (SELECT 1 FROM saved_view WHERE owner = $4 AND page = $1 AND name = $2)
         ON CONFLICT (owner, page, name) DO UPDATE
           SET query = excluded.query, shared = excluded.shared, owner_email = excluded.owner_email,
               updated_at = now()
         RETURNING id, (xmax = 0) AS created`,
          [input.page, input.name, checked.query, actor.id, actor.email, input.shared, VIEWS_PER_USER],
        );
      });
      const saved = rows[0];
      if (!saved)
        return {
          phase: "refused",
          message: `refused: you have ${VIEWS_PER_USER} views already, the most one user may keep: delete one first`,
        };
      const sharing = input.shared ? ", shared with the team" : ", private";
      return {
        phase: "done",
        message: `${saved.created ? "saved" : "replaced"} the view "${input.name}"${sharing} (${saved.id})`,
      };
    }
    case "delete": {
      const view = await viewById(db, input.id);
      if (!view) return { phase: "refused", message: "refused: no such view (deleted meanwhile?)" };
      if (view.owner !== actor.id && !view.shared)
        return { phase: "refused", message: "refused: no such view (deleted meanwhile?)" };
      await db.query("DELETE FROM saved_view WHERE id = $1", [input.id]);
      return { phase: "done", message: `deleted the view "${view.name}"` };
    }
    case "landing": {
      if (input.id === null) {
        await db.query("DELETE FROM landing_view WHERE owner = $1", [actor.id]);
        return { phase: "done", message: "you land on the overview again" };
      }
      const view = await viewById(db, input.id);
      if (!view || (view.owner !== actor.id && !view.shared))
        return { phase: "refused", message: "refused: no such view (deleted meanwhile?)" };
      await db.query(
        `INSERT INTO landing_view (owner, view_id) VALUES ($1, $2)
         ON CONFLICT (owner) DO UPDATE SET view_id = excluded.view_id`,
        [actor.id, input.id],
      );
      return { phase: "done", message: `you land on the view "${view.name}"` };
    }
  }
}
