// Sign-out: the session cookie is dropped (only from this site).
import { sameOrigin } from "@/server/auth/request-auth.ts";
import { clearedSessionCookie } from "@/server/auth/session.ts";

export const dynamic = "force-dynamic";

export function POST(req: Request): Response {
  if (!sameOrigin(req)) return Response.json({ message: "refused: not from this site" }, { status: 403 });
  return Response.json({ message: "signed out" }, { headers: { "set-cookie": clearedSessionCookie() } });
}
