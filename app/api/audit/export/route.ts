// The audit log as CSV, with the page's filters; for anyone signed in.
import { AuditFilterSchema, listAudit } from "@/server/actions/audit-log.ts";
import { csvCell } from "@/server/dashboard/sagas/export-sagas.ts";
import { createRequestContext } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const CAP = 100_000;
const COLUMNS = [
  "id",
  "at",
  "actor",
  "actor_role",
  "action",
  "target",
  "phase",
  "message",
  "params",
  "action_id",
];

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
  const lines = [COLUMNS.join(",")];
  let beforeId: number | undefined;
  while (lines.length <= CAP) {
    const page = await listAudit(ctx.pool, filter.data, { limit: 1000, beforeId });
    for (const e of page)
      lines.push(
        [
          e.id,
          e.at,
          e.actor,
          e.actorRole,
          e.action,
          e.target,
          e.phase,
          e.message,
          JSON.stringify(e.params),
          e.actionId,
        ]
          .map(csvCell)
          .join(","),
      );
    if (page.length < 1000) break;
    beforeId = page.at(-1)?.id;
  }
  return new Response(`${lines.join("\r\n")}\r\n`, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="audit-${new Date().toISOString().slice(0, 19).replaceAll(":", "-")}.csv"`,
      "cache-control": "no-store",
    },
  });
}
