// The tRPC API over HTTP: queries by GET/POST, subscriptions as server-sent events.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createRequestContext } from "@/server/trpc/context.ts";
import { appRouter } from "@/server/trpc/root.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

function handler(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: ({ resHeaders }) => createRequestContext(req, resHeaders),
  });
}

export { handler as GET, handler as POST };
