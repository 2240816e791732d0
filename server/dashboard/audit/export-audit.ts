// The filtered audit log as CSV, newest first, page by page by id (the page's keyset), so an
// export never holds the log in memory. Capped at AUDIT_EXPORT_CAP entries.
import { type AuditEntry, type AuditFilter, listAudit } from "../../audit/audit-log.ts";
import type { Pool } from "../../db/pool.ts";
import { type CsvColumns, csvTable } from "../csv/csv.ts";

export const AUDIT_EXPORT_CAP = 100_000;
const PAGE = 1000;

const COLUMNS: CsvColumns<AuditEntry> = [
  ["id", (e) => e.id],
  ["at", (e) => e.at],
  ["actor", (e) => e.actor],
  ["actor_role", (e) => e.actorRole],
  ["action", (e) => e.action],
  ["target", (e) => e.target],
  ["phase", (e) => e.phase],
  ["message", (e) => e.message],
  ["params", (e) => JSON.stringify(e.params)],
  ["action_id", (e) => e.actionId],
];

async function* auditPages(db: Pick<Pool, "query">, filter: AuditFilter): AsyncGenerator<AuditEntry[]> {
  let beforeId: number | undefined;
  for (;;) {
    const page = await listAudit(db, filter, { limit: PAGE, beforeId });
    yield page;
    if (page.length < PAGE) return;
    beforeId = page.at(-1)?.id;
  }
}

export function exportAuditCsv(db: Pick<Pool, "query">, filter: AuditFilter): AsyncGenerator<string> {
  return csvTable(COLUMNS, auditPages(db, filter), AUDIT_EXPORT_CAP);
}
