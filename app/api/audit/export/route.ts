// The audit log as CSV, with the page's filters; for anyone signed in. Streamed.
import { AuditFilterSchema } from "@/server/audit/audit-log.ts";
import { exportAuditCsv } from "@/server/dashboard/audit/export-audit.ts";
import { csvResponse } from "@/server/dashboard/csv/csv.ts";
import { createRequestContext } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request): Promise<Response> {
  const ctx = await createRequestContext(req);
  if (!ctx.auth?.actor)
    return new Response(`${ctx.auth?.problem ?? "sign in to export the audit log"}\n`, { status: 401 });
  const params = Object.fromEntries(new URL(req.url).searchParams);
  const filter = AuditFilterSchema.safeParse({
    ...params,
    from: params.from ? new Date(params.from) : undefined,
    to: params.to ? new Date(params.to) : undefined,
  });
  if (!filter.success)
    return new Response(`invalid filter: ${filter.error.issues.map((i) => i.message).join("; ")}\n`, {
      status: 400,
    });
  return csvResponse(exportAuditCsv(ctx.pool, filter.data), "audit");
}
