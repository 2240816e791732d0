// The audit log as CSV, with the page's filters; for anyone signed in. Streamed.
import { AuditFilterSchema } from "@/server/audit/audit-log.ts";
import { exportAuditCsv } from "@/server/dashboard/audit/export-audit.ts";
import { csvExportRoute } from "@/server/trpc/csv-export-route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = csvExportRoute({
  name: "audit",
  signIn: "sign in to export the audit log",
  query: AuditFilterSchema,
  params: (params) => ({
    ...params,
    from: params.from ? new Date(params.from) : undefined,
    to: params.to ? new Date(params.to) : undefined,
  }),
  rows: exportAuditCsv,
});
