// CSV export of the saga list, with the same filters (and parameter names) as its page.
import { csvResponse } from "@/server/dashboard/csv/csv.ts";
import { ExportQuerySchema, exportSagasCsv } from "@/server/dashboard/sagas/export-sagas.ts";
import { createContext, createRequestContext } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request): Promise<Response> {
  const { auth } = await createRequestContext(req);
  if (!auth?.actor)
    return new Response(`${auth?.problem ?? "sign in to export sagas"}\n`, {
      status: 401,
      headers: { "content-type": "text/plain" },
    });
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const query = ExportQuerySchema.safeParse(params);
  if (!query.success) {
    const problems = query.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; ");
    return new Response(`invalid filter: ${problems}\n`, {
      status: 400,
      headers: { "content-type": "text/plain" },
    });
  }
  return csvResponse(exportSagasCsv(createContext().pool, query.data), "sagas");
}
