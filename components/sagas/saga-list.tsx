"use client";
// The saga list: newest first, filters kept in the URL, cursor pages, live without reloads.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatDuration, formatTime, shortId } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { PagedList } from "@/components/ui/paged-list.tsx";
import { StatusBadge } from "@/components/ui/status-badge.tsx";

const STATUSES = [
  "running",
  "compensating",
  "completed",
  "compensated",
  "failed",
  "timed_out",
  "resolved",
] as const;
type Status = (typeof STATUSES)[number];

/** The list's filters, kept in the URL so that a filtered list can be shared and survives a reload. */
function useFilters() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  // What the user just chose shows at once; the URL catches up a moment later.
  const [pending, setPending] = useState<Record<string, string | undefined>>({});
  const query = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new URL is what settles the pending choices
  useEffect(() => setPending({}), [query]);
  const get = (key: string) => (key in pending ? pending[key] : (params.get(key) ?? undefined));
  const status = get("status");
  const mode = get("mode");
  const filters = {
    status: STATUSES.includes(status as Status) ? (status as Status) : undefined,
    stuck: get("stuck") === "1",
    sagaType: get("type"),
    mode:
      mode === "orchestrated" || mode === "choreographed"
        ? (mode as "orchestrated" | "choreographed")
        : undefined,
    search: get("q"),
  };
  const set = (key: string, value: string | undefined) => {
    setPending((p) => ({ ...p, [key]: value }));
    const next = new URLSearchParams(query);
    if (value) next.set(key, value);
    else next.delete(key);
    const text = next.toString();
    router.replace(text ? `${pathname}?${text}` : pathname, { scroll: false });
  };
  return { filters, set, query };
}

/** One filter of the list: "all" or one of `options` ([value, label]). */
function FilterSelect({
  label,
  ariaLabel,
  value,
  options,
  onChange,
}: {
  label: string;
  ariaLabel: string;
  value: string | undefined;
  options: (readonly [string, string])[];
  onChange: (value: string | undefined) => void;
}) {
  return (
    <label>
      {label}{" "}
      <select
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value || undefined)}
        aria-label={ariaLabel}
      >
        <option value="">all</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function SagaList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { filters, set, query } = useFilters();
  const [searchText, setSearchText] = useState(filters.search ?? "");
  const types = useQuery(trpc.sagas.types.queryOptions());
  const list = useInfiniteQuery(
    trpc.sagas.list.infiniteQueryOptions(
      {
        limit: 25,
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.stuck ? { stuck: true } : {}),
        ...(filters.sagaType ? { sagaType: filters.sagaType } : {}),
        ...(filters.mode ? { mode: filters.mode } : {}),
        ...(filters.search ? { search: filters.search } : {}),
      },
      { getNextPageParam: (page) => page.nextCursor },
    ),
  );
  const live = useSubscription(
    trpc.sagas.onChange.subscriptionOptions(undefined, {
      onData: () => void queryClient.invalidateQueries({ queryKey: trpc.sagas.list.pathKey() }),
    }),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <section>
      <div className="toolbar">
        <h1>Sagas</h1>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            set("q", searchText.trim() || undefined);
          }}
        >
          <input
            type="search"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder="saga id, trace id or business key"
            aria-label="Search by saga id, trace id or business key"
            size={34}
          />
        </form>
        <FilterSelect
          label="Status"
          ariaLabel="Filter by status"
          value={filters.status}
          options={STATUSES.map((v) => [v, v.replace("_", " ")] as const)}
          onChange={(v) => set("status", v)}
        />
        <FilterSelect
          label="Type"
          ariaLabel="Filter by saga type"
          value={filters.sagaType}
          options={(types.data ?? []).map((v) => [v, v] as const)}
          onChange={(v) => set("type", v)}
        />
        <FilterSelect
          label="Mode"
          ariaLabel="Filter by mode"
          value={filters.mode}
          options={[
            ["orchestrated", "orchestrated"],
            ["choreographed", "choreographed"],
          ]}
          onChange={(v) => set("mode", v)}
        />
        <label>
          <input
            type="checkbox"
            checked={filters.stuck}
            onChange={(e) => set("stuck", e.target.checked ? "1" : undefined)}
          />{" "}
          stuck only
        </label>
        <a href={`/api/sagas/export${query ? `?${query}` : ""}`} download data-testid="export-csv">
          Export CSV
        </a>
        <LiveIndicator status={live.status} />
      </div>
      <PagedList
        query={list}
        count={rows.length}
        errorTitle="The saga list could not be loaded"
        olderLabel="Older sagas"
        empty={
          <>
            <strong>No sagas yet.</strong>
            <p className="muted">
              Sagas appear here as soon as their events reach the ingester. Start the demo fleet with{" "}
              <code>npm run demo</code>, or publish events as described in docs/events.md.
            </p>
          </>
        }
      >
        <table className="grid" data-testid="saga-table">
          <thead>
            <tr>
              <th>Started</th>
              <th>Saga</th>
              <th>Status</th>
              <th>Step</th>
              <th className="num">Duration</th>
              <th>Trace id</th>
              <th className="num">Events</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.sagaId} data-saga-id={s.sagaId} data-mode={s.mode} data-status={s.status}>
                <td title={formatTime(s.startedAt)}>{formatAge(s.startedAt)}</td>
                <td>
                  <Link href={`/sagas/${encodeURIComponent(s.sagaId)}`} className="saga-link">
                    {s.sagaType}
                  </Link>
                  <div className="muted small">{s.businessKey ?? shortId(s.sagaId, 18)}</div>
                </td>
                <td>
                  <StatusBadge status={s.status} />
                  {s.stuck && (
                    <span className="badge badge-stuck" title={s.stuckReason ?? undefined}>
                      stuck
                    </span>
                  )}
                </td>
                <td title={s.failureReason ?? undefined}>
                  {s.failedStep ? <span className="fail">✗ {s.failedStep}</span> : (s.currentStep ?? "—")}
                </td>
                <td className="num">
                  {formatDuration(s.durationMs ?? Date.now() - s.startedAt.getTime())}
                  {s.durationMs === null && <span className="muted small"> so far</span>}
                </td>
                <td className="mono small">{s.traceId}</td>
                <td className="num">{s.eventCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
