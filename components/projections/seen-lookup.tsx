"use client";
// "Has the read model seen this?": an event id, saga id, aggregate id or topic:partition:offset,
// answered per projection with how far behind it is when it has not.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";

export function SeenLookup() {
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [query, setQuery] = useState<string | undefined>();
  const answer = useQuery({
    ...trpc.projections.seen.queryOptions({ query: query ?? "" }),
    enabled: Boolean(query),
    // A change that is not seen yet may be seen a moment later: the answer keeps itself current.
    refetchInterval: 2000,
  });
  return (
    <>
      <h2>Has the read model seen this?</h2>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(text.trim() || undefined);
        }}
      >
        <input
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="Event id, saga id, aggregate id or topic:partition:offset"
          placeholder="event id, saga id, order/account id, or topic:partition:offset"
          size={60}
        />
        <button type="submit">Ask</button>
      </form>
      {!query ? null : answer.isError ? (
        <ErrorPanel title="The lookup failed" message={answer.error.message} />
      ) : answer.isPending ? (
        <p className="muted">Asking…</p>
      ) : answer.data.generation === null ? (
        <p className="muted">No read model yet: start the projector.</p>
      ) : (
        <ul className="plain" data-testid="seen-answers">
          {answer.data.answers.map((a) => (
            <li key={`${a.projection}-${a.subject}`} data-seen={a.seen ? "yes" : "no"}>
              <strong className={a.seen ? "ok" : "fail"}>{a.seen ? "✓ seen" : "✗ not yet"}</strong> ·{" "}
              {a.projection} · {a.subject}
              <div>{a.detail}</div>
              <div className="muted small">
                {a.topic !== null && `${a.topic} · partition ${a.partition}`}
                {a.offset !== null && ` · offset ${a.offset}`}
                {a.appliedAt && (
                  <span title={formatTime(a.appliedAt)}> · applied {formatAge(a.appliedAt)}</span>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
