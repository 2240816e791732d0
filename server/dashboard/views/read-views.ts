// The saved views a user sees (their own, and those the team shared), each with how many sagas
// or audit entries it matches now, and the view the user lands on.

import { auditFilter, auditParams } from "../../../browser-safe/audit-view.ts";
import type { Actor } from "../../../browser-safe/roles.ts";
import { filterFromParams, type SagaListParams } from "../../../browser-safe/saga-filter.ts";
import { auditConditions } from "../../db/audit-filter-sql.ts";
import type { Pool } from "../../db/pool.ts";
import { cannotMatch, filterClause } from "../../db/saga-filter-sql.ts";
import { checkViewQuery, type ViewPage, viewHref } from "../../views/view-query.ts";

/** Counts stop here: a view shows "1000+" beyond, so that counting never scans a million rows. */
export const VIEW_COUNT_CAP = 1000;
/** The team's shared views listed, the newest first. */
export const SHARED_VIEWS_LISTED = 50;

export interface SavedViewItem {
  id: string;
  page: ViewPage;
  name: string;
  query: string;
  /** Where the view opens. */
  href: string;
  shared: boolean;
  mine: boolean;
  ownerEmail: string;
  updatedAt: Date;
  /** Matching sagas or audit entries now, at most VIEW_COUNT_CAP + 1; null when the query no longer reads. */
  count: number | null;
  landing: boolean;
}

type Db = Pick<Pool, "query">;

interface ViewRow {
  id: string;
  page: ViewPage;
  name: string;
  query: string;
  owner: string;
  ownerEmail: string;
  shared: boolean;
  updatedAt: Date;
}

/** Matches, at most one past the cap; null for a query the page would not read (saved before a change). */
async function countMatches(db: Db, page: ViewPage, query: string, now: number): Promise<number | null> {
  const checked = checkViewQuery(page, query);
  if (!checked.ok) return null;
  const search = new URLSearchParams(checked.query);
  const args: unknown[] = [];
  let where: string;
  if (page === "sagas") {
    const filter = filterFromParams(Object.fromEntries(search) as SagaListParams);
    // Filters that never meet count 0 at once, instead of proving it over every saga.
    if (await cannotMatch(db, filter)) return 0;
    const clause = filterClause(filter, now);
    where = clause.sql;
    args.push(...clause.args);
  } else {
    const conditions = auditConditions(auditFilter(auditParams(search)), (value) => {
      args.push(value);
      return `$${args.length}`;
    });
    where = conditions.length ? conditions.join(" AND ") : "true";
  }
  const table = page === "sagas" ? "saga_summary" : "audit_entry";
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} WHERE ${where} LIMIT ${VIEW_COUNT_CAP + 1}) matched`,
    args,
  );
  return rows[0]?.n ?? 0;
}

export async function listViews(
  db: Db,
  actor: Pick<Actor, "id">,
  now = Date.now(),
): Promise<{ views: SavedViewItem[]; countCap: number }> {
  const { rows } = await db.query<ViewRow & { landing: boolean }>(
    `(SELECT v.id, v.page, v.name, v.query, v.owner, v.owner_email AS "ownerEmail", v.shared,
             v.updated_at AS "updatedAt"
      FROM saved_view v WHERE v.owner = $1)
     UNION
     (SELECT v.id, v.page, v.name, v.query, v.owner, v.owner_email, v.shared, v.updated_at
      FROM saved_view v WHERE v.shared AND v.owner <> $1 ORDER BY v.updated_at DESC LIMIT $2)`,
    [actor.id, SHARED_VIEWS_LISTED],
  );
  const landing = await db.query<{ view_id: string }>("SELECT view_id FROM landing_view WHERE owner = $1", [
    actor.id,
  ]);
  const landingId = landing.rows[0]?.view_id;
  const counts = await Promise.all(rows.map((r) => countMatches(db, r.page, r.query, now)));
  const views = rows.map(
    (r, i): SavedViewItem => ({
      id: r.id,
      page: r.page,
      name: r.name,
      query: r.query,
      href: viewHref(r.page, r.query),
      shared: r.shared,
      mine: r.owner === actor.id,
      ownerEmail: r.ownerEmail,
      updatedAt: r.updatedAt,
      count: counts[i] ?? null,
      landing: r.id === landingId,
    }),
  );
  // Mine first, then the team's; by page, then by name.
  views.sort(
    (a, b) => Number(b.mine) - Number(a.mine) || a.page.localeCompare(b.page) || a.name.localeCompare(b.name),
  );
  return { views, countCap: VIEW_COUNT_CAP };
}

/** Where the user lands: their landing view's address, or null for the overview. */
export async function landingHref(db: Db, actor: Pick<Actor, "id">): Promise<string | null> {
  const { rows } = await db.query<{ page: ViewPage; query: string }>(
    `SELECT v.page, v.query FROM landing_view l JOIN saved_view v ON v.id = l.view_id
     WHERE l.owner = $1 AND (v.owner = $1 OR v.shared)`,
    [actor.id],
  );
  const view = rows[0];
  return view ? viewHref(view.page, view.query) : null;
}
