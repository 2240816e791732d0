"use client";
// The saga list: newest first, filters kept in the URL, cursor pages, live without reloads.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import {
  filterFromParams,
  SAGA_STATUSES,
  type SagaListParams,
  SagaListParamsSchema,
  SINCE_RANGES,
} from "@/browser-safe/saga-filter.ts";
import { BulkActions } from "@/components/sagas/bulk-actions.tsx";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatDuration, formatTime, shortId } from "@/components/ui/format.ts";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { PagedList } from "@/components/ui/paged-list.tsx";
import { StatusBadge } from "@/components/ui/status-badge.tsx";
import { SaveView } from "@/components/views/save-view.tsx";
import { WAITING_CHOICES, WAITING_HELP, WAITING_LABEL } from "./waiting-on-label.ts";

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
  const raw: Record<string, string> = {};
  for (const [key, value] of params) raw[key] = value;
  for (const [key, value] of Object.entries(pending)) {
    if (value === undefined) delete raw[key];
    else raw[key] = value;
  }
  // A parameter that does not parse (an old or hand-edited link) is ignored, not fatal.
  const url: SagaListParams = {};
  for (const [key, value] of Object.entries(raw)) {
    const one = SagaListParamsSchema.safeParse({ [key]: value });
    if (one.success) Object.assign(url, one.data);
  }
  const parsed = (() => {
    try {
      return { filter: filterFromParams(url), problem: undefined };
    } catch {
      // The only filter that can fail as a whole is a range that ends before it starts.
      return {
        filter: filterFromParams({ ...url, from: undefined, to: undefined }),
        problem: "The range must start before it ends; the list shows every start time meanwhile.",
      };
    }
  })();
  const set = (changes: Record<string, string | undefined>) => {
    setPending((p) => ({ ...p, ...changes }));
    const next = new URLSearchParams(query);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    const text = next.toString();
    router.replace(text ? `${pathname}?${text}` : pathname, { scroll: false });
  };
  return { url, filter: parsed.filter, rangeProblem: parsed.problem, set, query };
}

/** A datetime-local input's value for an ISO time, in the user's time zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** One end of a custom time range, in the user's time zone, kept as an ISO time. */
function TimeInput({
  label,
  iso,
  onChange,
}: {
  label: string;
  iso: string | undefined;
  onChange: (iso: string | undefined) => void;
}) {
  return (
    <input
      type="datetime-local"
      aria-label={label}
      value={localInput(iso)}
      onChange={(e) => onChange(e.target.value ? new Date(e.target.value).toISOString() : undefined)}
    />
  );
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
  const { url, filter, rangeProblem, set, query } = useFilters();
  const [searchText, setSearchText] = useState(url.q ?? "");
  const [customRange, setCustomRange] = useState(Boolean(url.from || url.to));
  const vocabulary = useQuery(trpc.sagas.vocabulary.queryOptions());
  const list = useInfiniteQuery(
    trpc.sagas.list.infiniteQueryOptions(
      { limit: 25, filter },
      { getNextPageParam: (page) => page.nextCursor },
    ),
  );
  const options = (values: string[] | undefined) => (values ?? []).map((v) => [v, v] as const);
  const range = customRange ? "custom" : (url.since ?? "");
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
            set({ q: searchText.trim() || undefined });
          }}
        >
          <input
            type="search"
            value={searchText}
            onChange={(e) => setSearchText(e.target.value)}
            placeholder="saga id, trace id or business key"
            aria-label="Search by saga id, trace id or business key"
            data-shortcut="search"
            size={34}
          />
        </form>
        <FilterSelect
          label="Status"
          ariaLabel="Filter by status"
          value={url.status}
          options={SAGA_STATUSES.map((v) => [v, v.replace("_", " ")] as const)}
          onChange={(v) => set({ status: v })}
        />
        <FilterSelect
          label="Type"
          ariaLabel="Filter by saga type"
          value={url.type}
          options={options(vocabulary.data?.sagaTypes)}
          onChange={(v) => set({ type: v })}
        />
        <FilterSelect
          label="Mode"
          ariaLabel="Filter by mode"
          value={url.mode}
          options={[
            ["orchestrated", "orchestrated"],
            ["choreographed", "choreographed"],
          ]}
          onChange={(v) => set({ mode: v })}
        />
        <FilterSelect
          label="Service"
          ariaLabel="Filter by service"
          value={url.service}
          options={options(vocabulary.data?.services)}
          onChange={(v) => set({ service: v })}
        />
        <FilterSelect
          label="Step"
          ariaLabel="Filter by the step a saga is at or failed at"
          value={url.step}
          options={options(vocabulary.data?.steps)}
          onChange={(v) => set({ step: v })}
        />
        <label>
          Started{" "}
          <select
            aria-label="Filter by start time"
            value={range}
            onChange={(e) => {
              const v = e.target.value;
              setCustomRange(v === "custom");
              if (v !== "custom") set({ since: v || undefined, from: undefined, to: undefined });
            }}
          >
            <option value="">any time</option>
            {Object.keys(SINCE_RANGES).map((k) => (
              <option key={k} value={k}>
                last {k}
              </option>
            ))}
            <option value="custom">between…</option>
          </select>
        </label>
        {customRange && (
          <span className="range-inputs">
            <TimeInput
              label="Started from"
              iso={url.from}
              onChange={(from) => set({ since: undefined, from })}
            />
            –
            <TimeInput label="Started before" iso={url.to} onChange={(to) => set({ since: undefined, to })} />
          </span>
        )}
        <label>
          <input
            type="checkbox"
            checked={url.stuck === "1"}
            onChange={(e) => set({ stuck: e.target.checked ? "1" : undefined })}
          />{" "}
          stuck only
        </label>
        <label>
          Waiting on{" "}
          <select
            aria-label="Waiting on"
            value={url.waiting ?? ""}
            onChange={(e) => set({ waiting: e.target.value || undefined })}
          >
            <option value="">anything</option>
            {WAITING_CHOICES.map((kind) => (
              <option key={kind} value={kind} title={WAITING_HELP[kind]}>
                {WAITING_LABEL[kind]}
              </option>
            ))}
          </select>
        </label>
        <BulkActions query={query} />
        <SaveView page="sagas" query={query} />
        <a href={`/api/sagas/export${query ? `?${query}` : ""}`} download data-testid="export-csv">
          Export CSV
        </a>
        <LiveIndicator status={live.status} />
      </div>
      {rangeProblem && (
        <p className="inline-error" role="alert">
          {rangeProblem}
        </p>
      )}
      <PagedList
        query={list}
        count={rows.length}
        errorTitle="The saga list could not be loaded"
        olderLabel="Older sagas"
        empty={
          query ? (
            <>
              <strong>No saga matches these filters.</strong>
              <p className="muted">
                <Link href="/sagas">Clear the filters</Link> to see every saga.
              </p>
            </>
          ) : (
            <>
              <strong>No sagas yet.</strong>
              <p className="muted">
                Sagas appear here as soon as their events reach the ingester. Start the demo fleet with{" "}
                <code>npm run demo</code>, or publish events as described in docs/events.md.
              </p>
            </>
          )
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
              <tr
                key={s.sagaId}
                data-saga-id={s.sagaId}
                data-mode={s.mode}
                data-status={s.status}
                data-services={s.services.join(",")}
                data-at-step={s.currentStep ?? s.failedStep ?? ""}
              >
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
                    <span
                      className="badge badge-stuck"
                      title={s.stuckReason ?? undefined}
                      data-testid="stuck-badge"
                      data-waiting={s.waitingOn ?? "unclassified"}
                    >
                      stuck{s.waitingOn ? ` · ${WAITING_LABEL[s.waitingOn]}` : ""}
                    </span>
                  )}
                  {s.pausedAt && (
                    <span
                      className="badge badge-paused"
                      title={`paused by ${s.pausedBy ?? "an operator"} since ${s.pausedAt.toISOString()}`}
                      data-testid="paused-badge"
                    >
                      paused
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
                <td className="mono small">
                  <Link href={`/traces/${s.traceId}`} title="Every event of this trace, across services">
                    {s.traceId}
                  </Link>
                </td>
                <td className="num">{s.eventCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
