// The audit page's view of the log: its URL parameters and the filter they stand for, one row
// per action with its phases in order, where a target leads, and parameters on one line.
// Free of server-only imports: the page runs it in the browser.
import { z } from "zod";
import type { AuditEntry, AuditFilter, AuditRecord } from "../server/audit/audit-log.ts";
import { FINAL_PHASES, PHASES, type Phase } from "./audit-phases.ts";

const text = (max: number) => z.string().trim().min(1).max(max);

/** The page's URL parameters; the CSV export reads the same names. */
export const AuditParamsSchema = z.object({
  actor: text(200).optional(),
  action: text(100).optional(),
  target: text(300).optional(),
  phase: z.enum(PHASES).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});
export type AuditParams = z.infer<typeof AuditParamsSchema>;
const PARAM_NAMES = Object.keys(AuditParamsSchema.shape) as (keyof AuditParams)[];

/** Each parameter on its own: one that a hand-edited link spoils is dropped, the rest apply. */
export function auditParams(search: Iterable<[string, string]>): AuditParams {
  const params: AuditParams = {};
  for (const [key, value] of search) {
    if (!(PARAM_NAMES as string[]).includes(key)) continue;
    const one = AuditParamsSchema.safeParse({ [key]: value });
    if (one.success) Object.assign(params, one.data);
  }
  return params;
}

export function auditFilter(p: AuditParams): AuditFilter {
  return {
    ...(p.actor ? { actor: p.actor } : {}),
    ...(p.action ? { action: p.action } : {}),
    ...(p.target ? { target: p.target } : {}),
    ...(p.phase ? { phase: p.phase } : {}),
    ...(p.from ? { from: new Date(p.from) } : {}),
    ...(p.to ? { to: new Date(p.to) } : {}),
  };
}

/** The parameters as a query string, in a fixed order (for the URL and the CSV link). */
export function auditQuery(p: AuditParams): string {
  const search = new URLSearchParams();
  for (const name of PARAM_NAMES) {
    const value = p[name];
    if (value) search.set(name, value);
  }
  return search.toString();
}

/** A range that ends before it starts matches nothing; the page says why. */
export function rangeProblem(p: AuditParams): string | undefined {
  return p.from && p.to && new Date(p.from) >= new Date(p.to)
    ? "The range must start before it ends: nothing can match it."
    : undefined;
}

export interface AuditPhaseView {
  id: number;
  phase: Phase;
  at: Date;
  message: string;
}

/** One action as its phases tell it: who asked what of which target, and how it went. */
export interface AuditActionView extends Omit<AuditRecord, "idempotencyKey"> {
  /** Oldest first: requested → pending → done, or denied alone. */
  phases: AuditPhaseView[];
  /** The phase that ended it, or the latest while it is under way. */
  outcome: Phase;
  message: string;
  /** When it was first seen (the earliest phase on the page). */
  at: Date;
}

/** Entries newest first (several pages of them) → actions newest first, phases grouped. */
export function groupActions(entries: readonly AuditEntry[]): AuditActionView[] {
  const byAction = new Map<string, AuditActionView>();
  for (const e of entries) {
    let view = byAction.get(e.actionId);
    if (!view) {
      view = {
        actionId: e.actionId,
        actor: e.actor,
        actorRole: e.actorRole,
        action: e.action,
        target: e.target,
        params: e.params,
        phases: [],
        outcome: e.phase,
        message: e.message,
        at: e.at,
      };
      byAction.set(e.actionId, view);
    }
    if (!view.phases.some((p) => p.id === e.id))
      view.phases.push({ id: e.id, phase: e.phase, at: e.at, message: e.message });
  }
  for (const view of byAction.values()) {
    view.phases.sort((a, b) => a.id - b.id);
    const last = view.phases.findLast((p) => FINAL_PHASES.has(p.phase)) ?? view.phases.at(-1);
    if (last) {
      view.outcome = last.phase;
      view.message = last.message;
    }
    view.at = view.phases[0]?.at ?? view.at;
  }
  // Map order is first-seen order, i.e. by each action's newest entry: newest first.
  return [...byAction.values()];
}

/** Where an action's target is shown: a saga's page, a breaker pair's detail, or nowhere. */
export function targetHref(action: string, target: string): string | undefined {
  if (action.startsWith("saga.") && !action.startsWith("saga.bulk-"))
    return `/sagas/${encodeURIComponent(target)}`;
  if (action.startsWith("breaker.")) return `/breakers?pair=${encodeURIComponent(target)}`;
  return undefined;
}

/** Parameters as `name=value, …`, empty ones left out; `full` keeps everything for a tooltip. */
export function compactParams(params: Record<string, unknown>, max = 100): { short: string; full: string } {
  const shown = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
  return {
    short: shown.length > max ? `${shown.slice(0, max - 1)}…` : shown,
    full: JSON.stringify(params, null, 2),
  };
}
