// The CSV downloads (the saga list, the audit log) as route handlers beside tRPC: the same
// request context and sign-in, the page's filters from the URL, rows streamed as they are read.
import "server-only";
import type { z } from "zod";
import { csvResponse } from "../dashboard/csv/csv.ts";
import type { Pool } from "../db/pool.ts";
import { issues } from "../events/index.ts";
import { createRequestContext } from "./context.ts";

export interface CsvExport<Query> {
  /** The download's name: `<name>-<time>.csv`. */
  name: string;
  /** What a request without a session is told it needs ("sign in to export sagas"). */
  signIn: string;
  /** The filter, from the URL's parameters. */
  query: z.ZodType<Query, unknown>;
  /** The URL's parameters as the query schema reads them (dates parsed, say). */
  params?: (params: Record<string, string>) => unknown;
  rows: (pool: Pick<Pool, "query">, query: Query) => AsyncGenerator<string>;
}

const text = (status: number, body: string) =>
  new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export function csvExportRoute<Query>(spec: CsvExport<Query>): (req: Request) => Promise<Response> {
  return async (req) => {
    const ctx = await createRequestContext(req);
    if (!ctx.auth?.actor) return text(401, ctx.auth?.problem ?? spec.signIn);
    const params = Object.fromEntries(new URL(req.url).searchParams);
    const query = spec.query.safeParse(spec.params ? spec.params(params) : params);
    if (!query.success) return text(400, `invalid filter: ${issues(query.error)}`);
    return csvResponse(spec.rows(ctx.pool, query.data), spec.name);
  };
}
