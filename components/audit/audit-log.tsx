"use client";
// The audit log: one row per operator action with its phases, newest first; filters kept in
// the URL (and handed to the CSV export), older entries by cursor, refreshed every 3 s.
import { useInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { PHASES } from "@/browser-safe/audit-phases.ts";
import {
  type AuditActionView,
  type AuditParams,
  auditFilter,
  auditParams,
  auditQuery,
  compactParams,
  groupActions,
  rangeProblem,
  targetHref,
} from "@/browser-safe/audit-view.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import { PagedList } from "@/components/ui/paged-list.tsx";
import { SaveView } from "@/components/views/save-view.tsx";
import styles from "./audit-log.module.css";

const REFRESH_MS = 3_000;

/** The filters, kept in the URL so that a filtered log can be shared and survives a reload. */
function useAuditParams() {
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const params = auditParams(search);
  const query = auditQuery(params);
  const set = (changes: Partial<Record<keyof AuditParams, string | undefined>>) => {
    const next = auditQuery(auditParams(Object.entries({ ...params, ...changes }).filter(isPair)));
    router.replace(next ? `${pathname}?${next}` : pathname, { scroll: false });
  };
  return { params, query, set };
}
const isPair = (e: [string, unknown]): e is [string, string] => typeof e[1] === "string";

/** A datetime-local input's value for an ISO time, in the viewer's time zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : undefined);

function Filters({
  params,
  query,
  set,
  seen,
}: {
  params: AuditParams;
  query: string;
  set: ReturnType<typeof useAuditParams>["set"];
  seen: AuditActionView[];
}) {
  const distinct = (values: string[]) => [...new Set(values)].sort();
  return (
    // Keyed by the URL: a cleared or shared filter shows in the inputs at once.
    <form
      key={query}
      className={styles.filters}
      aria-label="Filter the audit log"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const text = (name: string) => String(form.get(name) ?? "").trim() || undefined;
        set({ actor: text("actor"), action: text("action"), target: text("target") });
      }}
    >
      <label>
        Actor <input name="actor" defaultValue={params.actor ?? ""} list="audit-actors" size={18} />
      </label>
      <label>
        Action <input name="action" defaultValue={params.action ?? ""} list="audit-actions" size={18} />
      </label>
      <label>
        Target <input name="target" defaultValue={params.target ?? ""} size={22} />
      </label>
      <datalist id="audit-actors">
        {distinct(seen.map((a) => a.actor)).map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <datalist id="audit-actions">
        {distinct(seen.map((a) => a.action)).map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <button type="submit">Apply</button>
      <label>
        Outcome{" "}
        <select
          aria-label="Filter by outcome or phase"
          defaultValue={params.phase ?? ""}
          onChange={(e) => set({ phase: e.target.value || undefined })}
        >
          <option value="">any</option>
          {PHASES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      <span className={styles.range}>
        <label>
          From{" "}
          <input
            type="datetime-local"
            aria-label="Entries from"
            defaultValue={localInput(params.from)}
            onChange={(e) => set({ from: fromLocalInput(e.target.value) })}
          />
        </label>
        <label>
          to{" "}
          <input
            type="datetime-local"
            aria-label="Entries before"
            defaultValue={localInput(params.to)}
            onChange={(e) => set({ to: fromLocalInput(e.target.value) })}
          />
        </label>
      </span>
      {query && <Link href="/audit">Clear filters</Link>}
    </form>
  );
}

function Phases({ action }: { action: AuditActionView }) {
  const start = action.phases[0]?.at.getTime() ?? 0;
  return (
    <ol className={styles.phases} aria-label="Phases">
      {action.phases.map((p, i) => (
        <li
          key={p.id}
          data-phase={p.phase}
          title={`${formatTime(p.at)}${p.message ? ` · ${p.message}` : ""}`}
        >
          {i > 0 && <span aria-hidden="true">→ </span>}
          <span className={styles[`phase-${p.phase}`]}>{p.phase}</span>
          {i > 0 && <span className="muted"> +{Math.max(0, p.at.getTime() - start)} ms</span>}
        </li>
      ))}
    </ol>
  );
}

function AuditRow({ action, now }: { action: AuditActionView; now: number }) {
  const href = targetHref(action.action, action.target);
  const params = compactParams(action.params);
  return (
    <tr
      data-action-id={action.actionId}
      data-action={action.action}
      data-actor={action.actor}
      data-actor-role={action.actorRole}
      data-outcome={action.outcome}
    >
      <td>
        <time dateTime={action.at.toISOString()}>{formatTime(action.at)}</time>
        <div className="muted small">{formatAge(action.at, now)}</div>
      </td>
      <td>
        {action.actor}
        <div className="muted small">{action.actorRole}</div>
      </td>
      <td>
        <code>{action.action}</code>
      </td>
      <td className={styles.target}>
        {href ? (
          <Link href={href} className="mono">
            {action.target}
          </Link>
        ) : (
          <span className="mono">{action.target}</span>
        )}
      </td>
      <td className={`mono small ${styles.params}`} title={params.full}>
        {params.short || <span className="muted">—</span>}
      </td>
      <td>
        <strong className={styles[`phase-${action.outcome}`]} data-testid="audit-outcome">
          {action.outcome}
        </strong>
        {action.message && <span> · {action.message}</span>}
        <Phases action={action} />
      </td>
    </tr>
  );
}

export function AuditLog() {
  const trpc = useTRPC();
  const { params, query, set } = useAuditParams();
  const list = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      { limit: 50, filter: auditFilter(params) },
      { getNextPageParam: (page) => page.nextCursor, refetchInterval: REFRESH_MS },
    ),
  );
  const actions = groupActions(list.data?.pages.flatMap((p) => p.items) ?? []);
  // Read on every refresh, so that the ages move on even when nothing new arrived.
  const now = list.dataUpdatedAt || Date.now();
  const problem = rangeProblem(params);
  return (
    <section>
      <div className="toolbar">
        <h1>Audit log</h1>
        <SaveView page="audit" query={query} />
        <a href={`/api/audit/export${query ? `?${query}` : ""}`} download data-testid="export-csv">
          Export CSV
        </a>
        <span className="muted small" data-testid="audit-refreshed">
          {list.dataUpdatedAt
            ? `refreshed every ${REFRESH_MS / 1000} s · last ${new Date(list.dataUpdatedAt).toLocaleTimeString()}`
            : "connecting…"}
        </span>
      </div>
      <p className="muted">
        Every operator action and every refusal, phase by phase (requested → pending → done, failed or
        refused; or denied). The log is append-only: nothing here can be changed or removed.
      </p>
      <Filters params={params} query={query} set={set} seen={actions} />
      {problem && (
        <p className="inline-error" role="alert">
          {problem}
        </p>
      )}
      <PagedList
        query={list}
        count={actions.length}
        errorTitle="The audit log could not be loaded (it is kept in Postgres)"
        olderLabel="Older entries"
        empty={
          query ? (
            <>
              <strong>No entry matches these filters.</strong>
              <p className="muted">
                <Link href="/audit">Clear the filters</Link> to see every entry.
              </p>
            </>
          ) : (
            <>
              <strong>No operator action yet.</strong>
              <p className="muted">
                Actions taken from the dashboard (saga commands, breaker overrides and thresholds, users, the
                demo&apos;s faults) and every refusal are recorded here as they happen.
              </p>
            </>
          )
        }
      >
        <table className="grid" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Who</th>
              <th>Action</th>
              <th>Target</th>
              <th>Parameters</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <AuditRow key={a.actionId} action={a} now={now} />
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
