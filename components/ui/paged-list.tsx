// The states every cursor-paged list goes through, said the same way everywhere: an
// error plainly, loading, empty with what to do, then the rows and a button for older ones.
import type { ReactNode } from "react";
import { ErrorPanel } from "@/components/ui/error-panel.tsx";

interface PagedQuery {
  isError: boolean;
  error: { message: string } | null;
  isPending: boolean;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage(): unknown;
}

export function PagedList({
  query,
  count,
  errorTitle,
  empty,
  olderLabel,
  children,
}: {
  query: PagedQuery;
  count: number;
  errorTitle: string;
  empty: ReactNode;
  olderLabel: string;
  children: ReactNode;
}) {
  if (query.isError)
    return <ErrorPanel title={errorTitle} message={query.error?.message ?? "unknown error"} />;
  if (query.isPending) return <p className="muted">Loading…</p>;
  if (count === 0) return <div className="panel">{empty}</div>;
  return (
    <>
      {children}
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? "Loading…" : olderLabel}
        </button>
      )}
    </>
  );
}
