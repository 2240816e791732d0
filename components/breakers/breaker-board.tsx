"use client";
// The breakers page: a caller × callee matrix of every breaker's live state, the selected
// pair's detail (kept in the URL), and every pair in a list; refreshed whenever a breaker
// changes, through the breakers' Redis channel.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useTRPC } from "@/components/trpc.tsx";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";
import { LiveIndicator } from "@/components/ui/live-indicator.tsx";
import { BreakerDetail } from "./breaker-detail.tsx";
import { BreakerMatrix } from "./breaker-matrix.tsx";
import { BreakerTable } from "./breaker-table.tsx";
import { useBreakerSelection } from "./use-breaker-selection.ts";

export function BreakerBoard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const selection = useBreakerSelection();
  const list = useQuery(trpc.breakers.list.queryOptions());
  const live = useSubscription(
    trpc.breakers.onChange.subscriptionOptions(undefined, {
      onData: () => void queryClient.invalidateQueries({ queryKey: trpc.breakers.list.queryKey() }),
    }),
  );
  const rows = list.data ?? [];
  const hrefFor = (pair: string) => selection.href({ pair });
  const selected = selection.pair;

  return (
    <section>
      <div className="toolbar">
        <h1>Circuit breakers</h1>
        <LiveIndicator status={live.status} />
      </div>
      <p className="muted">
        One breaker per caller→callee pair, shared by every instance of the caller through Redis. States
        change as the callers report their calls; forced states are an operator's override.
      </p>
      {list.isError ? (
        <ErrorPanel title="The breakers could not be loaded" message={list.error.message} />
      ) : list.isPending ? (
        <p className="muted">Loading…</p>
      ) : rows.length === 0 && !selected ? (
        <div className="panel">
          <strong>No breakers yet.</strong>
          <p className="muted">
            A pair appears as soon as a caller makes its first call through a breaker (the demo fleet's
            orchestrator and bank B do; see docs/breakers.md).
          </p>
        </div>
      ) : (
        <>
          {rows.length > 0 ? <BreakerMatrix breakers={rows} selected={selected} hrefFor={hrefFor} /> : null}
          {selected ? (
            <BreakerDetail
              pair={selected}
              breaker={rows.find((b) => b.pair === selected)}
              range={selection.range}
              onRange={selection.setRange}
              closeHref={selection.href({ pair: null })}
            />
          ) : (
            <p className="muted small">Choose a pair in the matrix for its history, charts and settings.</p>
          )}
          {rows.length > 0 ? (
            <>
              <h2>All pairs</h2>
              <BreakerTable breakers={rows} hrefFor={hrefFor} now={Date.now()} />
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
