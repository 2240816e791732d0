// The WHERE conditions of an audit log filter, shared by the log's reader (server/actions) and
// the saved views' counts (server/dashboard): one place says what each filter field matches.
import type { AuditFilter } from "../audit/audit-log.ts";

/** Conditions on audit_entry; `arg` adds a query parameter and returns its `$n`. */
export function auditConditions(filter: AuditFilter, arg: (value: unknown) => string): string[] {
  const where: string[] = [];
  if (filter.actor) where.push(`actor = ${arg(filter.actor)}`);
  if (filter.action) where.push(`action = ${arg(filter.action)}`);
  if (filter.target) where.push(`target = ${arg(filter.target)}`);
  if (filter.phase) where.push(`phase = ${arg(filter.phase)}`);
  if (filter.from) where.push(`at >= ${arg(filter.from)}`);
  if (filter.to) where.push(`at < ${arg(filter.to)}`);
  return where;
}
