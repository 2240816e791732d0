// CSV export of the saga list, with the same filters (and parameter names) as its page.
import { ExportQuerySchema, exportSagasCsv } from "@/server/dashboard/sagas/export-sagas.ts";
import { csvExportRoute } from "@/server/trpc/csv-export-route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = csvExportRoute({
  name: "sagas",
  signIn: "sign in to export sagas",
  query: ExportQuerySchema,
  rows: exportSagasCsv,
});
