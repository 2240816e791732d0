// The filtered audit log as CSV, newest first, page by page by id (the page's keyset), so an
// export never holds the log in memory. Capped at EXPORT_CAP entries.
import { type AuditFilter, listAudit } from "../../audit/audit-log.ts";
import type { Pool } from "../../db/pool.ts";
import { csvLine } from "../csv/csv.ts";

export const AUDIT_EXPORT_CAP = 100_000;
const PAGE = 1000;

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

export async function* exportAuditCsv(db: Pick<Pool, "query">, filter: AuditFilter): AsyncGenerator<string> {
  yield `${COLUMNS.join(",")}\r\n`;
  let beforeId: number | undefined;
  let written = 0;
  while (written < AUDIT_EXPORT_CAP) {
    const page = await listAudit(db, filter, { limit: Math.min(PAGE, AUDIT_EXPORT_CAP - written), beforeId });
    if (page.length > 0)
      yield `${page
        .map((e) =>
          csvLine([
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
          ]),
        )
        .join("\r\n")}\r\n`;
    written += page.length;
    if (page.length < PAGE) break;
    beforeId = page.at(-1)?.id;
  }
}
