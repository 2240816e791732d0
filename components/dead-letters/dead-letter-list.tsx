"use client";
// Quarantined messages with their reason and raw content, refreshed as new ones arrive:
// counted by kind of reason, filtered (open or resolved, by reason; both in the URL), and
// replayed or discarded one by one or all matching.
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { DEAD_LETTER_STATES, type DeadLetterState } from "@/browser-safe/dead-letter-states.ts";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import { PagedList } from "@/components/ui/paged-list.tsx";
import type { DeadLetterView } from "@/server/dashboard/dead-letters/list-dead-letters.ts";
import { BulkLetterActions, LetterActions } from "./dead-letter-actions.tsx";
import { EditAndReplay, EditedBeside } from "./edit-and-replay.tsx";

/** A reused id: the stored event beside this message, so that the two bodies can be compared. */
function Collision({
  letter,
  stored,
}: {
  letter: DeadLetterView;
  stored: NonNullable<DeadLetterView["collidesWith"]>;
}) {
  return (
    <details open data-testid="collision">
      <summary className="small">
        compare with the stored event {stored.id} from {stored.source}
      </summary>
      <div className="compare">
        <figure>
          <figcaption className="small muted">
            stored · {stored.type.replace("io.sagascope.saga.", "")} · {formatTime(stored.time)}
          </figcaption>
          <pre className="payload" data-testid="collision-stored">
            {JSON.stringify(stored.data, null, 2)}
          </pre>
        </figure>
        <figure>
          <figcaption className="small muted">
            this message · {letter.headers.ce_type?.replace("io.sagascope.saga.", "") ?? "structured"} ·{" "}
            {letter.headers.ce_time ?? ""}
          </figcaption>
          <pre className="payload" data-testid="collision-refused">
            {prettyJson(letter.valuePreview)}
          </pre>
        </figure>
      </div>
    </details>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** The filters, kept in the URL so that a filtered list can be shared and survives a reload. */
function useLetterFilters() {
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const stateParam = search.get("state");
  const state: DeadLetterState = (DEAD_LETTER_STATES as readonly string[]).includes(stateParam ?? "")
    ? (stateParam as DeadLetterState)
    : "open";
  const reason = (search.get("reason") ?? "").slice(0, 200);
  const set = (changes: { state?: DeadLetterState; reason?: string }) => {
    const next = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    const query = next.toString();
    router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };
  return { state, reason, set };
}

function ReasonCounts({ onPick }: { onPick: (kind: string) => void }) {
  const trpc = useTRPC();
  const counts = useQuery({ ...trpc.deadLetters.reasons.queryOptions(), refetchInterval: 5_000 });
  if (!counts.data || counts.data.length === 0) return null;
  return (
    <ul className="chips" aria-label="Open dead letters by reason" data-testid="dead-letter-reasons">
      {counts.data.map((c) => (
        <li key={c.kind}>
          <button
            type="button"
            className="chip"
            onClick={() => onPick(c.kind)}
            title={`newest ${formatTime(c.newest)}`}
          >
            {c.kind} <strong>{c.count}</strong>
          </button>
        </li>
      ))}
    </ul>
  );
}

function Resolution({ letter }: { letter: DeadLetterView }) {
  const r = letter.resolution;
  if (!r)
    return (
      <>
        <LetterActions id={letter.id} />
        <EditAndReplay letter={letter} />
      </>
    );
  return (
    <>
      <p className="small" data-testid="resolution" data-resolution={r.what}>
        {r.what === "replayed-edited" ? "replayed with an edit" : r.what} by {r.by}{" "}
        <span title={formatTime(r.at)}>{formatAge(r.at)}</span>
        {r.note ? <span className="muted"> · {r.note}</span> : null}
      </p>
      <EditedBeside letter={letter} />
    </>
  );
}

export function DeadLetterList() {
  const trpc = useTRPC();
  const { state, reason, set } = useLetterFilters();
  const list = useInfiniteQuery(
    trpc.deadLetters.list.infiniteQueryOptions(
      { limit: 25, state, ...(reason ? { reason } : {}) },
      { getNextPageParam: (page) => page.nextCursor, refetchInterval: 5_000 },
    ),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section>
      <div className="toolbar">
        <h1>Dead letters</h1>
      </div>
      <p className="muted">
        Messages the ingester refused. Nothing is dropped: each is kept byte for byte with the reason, and
        ingestion went on with the next message. Replay one once its producer is fixed, or discard it with a
        reason.
      </p>
      <ReasonCounts onPick={(kind) => set({ reason: kind, state: "open" })} />
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Show{" "}
          <select value={state} onChange={(e) => set({ state: e.target.value as DeadLetterState })}>
            <option value="open">open</option>
            <option value="resolved">replayed or discarded</option>
            <option value="all">all</option>
          </select>
        </label>{" "}
        <label>
          Reason contains{" "}
          <input
            type="search"
            defaultValue={reason}
            key={reason}
            maxLength={200}
            onKeyDown={(e) => {
              if (e.key === "Enter") set({ reason: e.currentTarget.value.trim() });
            }}
            onBlur={(e) => set({ reason: e.currentTarget.value.trim() })}
          />
        </label>
      </form>
      {reason && state === "open" ? <BulkLetterActions reason={reason} /> : null}
      <PagedList
        query={list}
        count={rows.length}
        errorTitle="Dead letters could not be loaded"
        olderLabel="Older"
        empty={
          <>
            <strong>No quarantined messages.</strong>
            <p className="muted">Every message so far matched the contract in docs/events.md.</p>
          </>
        }
      >
        <table className="grid" data-testid="dead-letters">
          <thead>
            <tr>
              <th>Received</th>
              <th>Reason</th>
              <th>Position</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-dead-letter-id={d.id}>
                <td title={formatTime(d.receivedAt)}>{formatAge(d.receivedAt)}</td>
                <td className="fail">{d.reason}</td>
                <td className="mono small">
                  {d.kafka.topic}
                  <br />
                  partition {d.kafka.partition} · offset {d.kafka.offset}
                </td>
                <td>
                  <details>
                    <summary className="small">
                      key {d.key ?? "(none)"} · {d.valueBytes} bytes ({d.valueEncoding})
                    </summary>
                    <pre className="payload">{d.valuePreview}</pre>
                    <pre className="payload">{JSON.stringify(d.headers, null, 2)}</pre>
                  </details>
                  {d.collidesWith && <Collision letter={d} stored={d.collidesWith} />}
                  <Resolution letter={d} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
