// The tRPC API over HTTP: queries by GET/POST, subscriptions as server-sent events. A batch
// of more than MAX_TRPC_BATCH procedures is refused before anything runs (and audited).
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { auditRefusal } from "@/server/actions/audit-refusal.ts";
import { batchSize, MAX_TRPC_BATCH } from "@/server/trpc/batch-limit.ts";
import { createContext, createRequestContext } from "@/server/trpc/context.ts";
import { appRouter } from "@/server/trpc/root.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

async function handler(req: Request) {
  const size = batchSize(new URL(req.url).pathname);
  if (size > MAX_TRPC_BATCH) {
    const why = `a batch of ${size} procedures; at most ${MAX_TRPC_BATCH} in one request`;
    await auditRefusal(createContext().pool, {
      actor: "anonymous",
      actorRole: "none",
      action: "trpc.batch",
      why,
    }).catch(() => undefined);
    return Response.json({ error: { message: `refused: ${why}` } }, { status: 413 });
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createRequestContext(req, resHeaders),
  });
}

export { handler as GET, handler as POST };
