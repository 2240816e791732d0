// What a saved view stores: a page of the dashboard and that page's URL query string, checked
// by the page's own parameter schema so that a view always opens as the page would read it.
// Free of server-only imports: the pages run it in the browser too.
import { z } from "zod";
import { AuditParamsSchema, rangeProblem } from "../../browser-safe/audit-view.ts";
import { filterFromParams, type SagaFilter, SagaListParamsSchema } from "../../browser-safe/saga-filter.ts";

export const VIEW_PAGES = ["sagas", "audit"] as const;
export type ViewPage = (typeof VIEW_PAGES)[number];

/** Limits, enforced on the server (and by the table's checks). */
export const VIEW_NAME_MAX = 80;
export const VIEW_QUERY_MAX = 2000;
/** Views one user may own. */
export const VIEWS_PER_USER = 50;

export const VIEW_PATHS: Record<ViewPage, string> = { sagas: "/sagas", audit: "/audit" };

const schemas = { sagas: SagaListParamsSchema.strict(), audit: AuditParamsSchema.strict() };

export type QueryCheck = { ok: true; query: string } | { ok: false; problem: string };

/** The query string as the page reads it (parameters in a fixed order), or why it is not one. */
export function checkViewQuery(page: ViewPage, query: string): QueryCheck {
  if (query.length > VIEW_QUERY_MAX)
    return { ok: false, problem: `a query of at most ${VIEW_QUERY_MAX} characters` };
  const search = new URLSearchParams(query.startsWith("?") ? query.slice(1) : query);
  const raw: Record<string, string> = {};
  for (const [key, value] of search) {
    if (key in raw) return { ok: false, problem: `the parameter "${key}" is given twice` };
    raw[key] = value;
  }
  const parsed = schemas[page].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".");
    return {
      ok: false,
      problem: `not a filter of the ${page} page: ${where ? `${where}: ` : ""}${issue?.message}`,
    };
  }
  const problem =
    page === "sagas"
      ? sagaRangeProblem(parsed.data)
      : rangeProblem(parsed.data as z.infer<typeof AuditParamsSchema>);
  if (problem) return { ok: false, problem };
  const ordered = new URLSearchParams();
  for (const key of Object.keys(schemas[page].shape)) {
    const value = (parsed.data as Record<string, string | undefined>)[key];
    if (value !== undefined) ordered.set(key, value);
  }
  return { ok: true, query: ordered.toString() };
}

function sagaRangeProblem(params: z.infer<typeof SagaListParamsSchema>): string | undefined {
  try {
    filterFromParams(params);
    return undefined;
  } catch (error) {
    return error instanceof z.ZodError ? (error.issues[0]?.message ?? "not a valid filter") : String(error);
  }
}

/** The saga list's filter a query stands for (after checkViewQuery said it is one). */
export function sagaFilterOfQuery(checkedQuery: string): SagaFilter {
  return filterFromParams(SagaListParamsSchema.parse(Object.fromEntries(new URLSearchParams(checkedQuery))));
}

/** Where a view opens. */
export const viewHref = (page: ViewPage, query: string) =>
  query ? `${VIEW_PATHS[page]}?${query}` : VIEW_PATHS[page];
