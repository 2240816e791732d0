// The most procedures one HTTP request may batch: each runs its own queries, so an unbounded
// batch is an unbounded share of the database from one request. The page's client batches
// fewer (components/trpc.tsx).
import "server-only";

export const MAX_TRPC_BATCH = 16;

/** Procedures named by a tRPC request path (`/api/trpc/a.b,c.d`). */
export function batchSize(pathname: string, endpoint = "/api/trpc"): number {
  const names = pathname.slice(endpoint.length).replace(/^\//, "");
  return names === "" ? 0 : names.split(",").length;
}
