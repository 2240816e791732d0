// CSV export of the saga list, with the same filters (and parameter names) as its page.
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
  const rows = exportSagasCsv(createContext().pool, query.data);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await rows.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await rows.return(undefined);
    },
  });
  const stamp = new Date().toISOString().replaceAll(":", "-").slice(0, 19);
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="sagas-${stamp}.csv"`,
      "cache-control": "no-store",
    },
  });
}
