"use client";
// Quarantined messages with their reason and raw content; refreshed as new ones arrive.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc.tsx";
import { formatAge, formatTime } from "@/components/ui/format.ts";
import { PagedList } from "@/components/ui/paged-list.tsx";
import type { DeadLetterView } from "@/server/dashboard/dead-letters/list-dead-letters.ts";

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

export function DeadLetterList() {
  const trpc = useTRPC();
  const list = useInfiniteQuery(
    trpc.deadLetters.list.infiniteQueryOptions(
      { limit: 25 },
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
        ingestion went on with the next message.
      </p>
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedList>
    </section>
  );
}
