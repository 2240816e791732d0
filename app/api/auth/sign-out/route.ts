// Sign-out (only from this site): the cookie is dropped and, for a signed-in user, every
// session of theirs is revoked on the server, so a copied cookie stops working too.
import { auditRefusal } from "@/server/actions/audit-refusal.ts";
import { sameOrigin } from "@/server/auth/request-auth.ts";
import { clearedSessionCookie, readSession, sessionSecret } from "@/server/auth/session.ts";
import { currentUser, revokeSessions } from "@/server/auth/users.ts";
import { env } from "@/server/env.ts";
import { createContext } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(req: Request): Promise<Response> {
  if (!sameOrigin(req)) {
    await auditRefusal(createContext().pool, {
      actor: "anonymous",
      actorRole: "none",
      action: "sign-out",
      why: "not from this site (no or another Origin)",
    }).catch(() => undefined);
    return Response.json({ message: "refused: not from this site" }, { status: 403 });
  }
  const cleared = { "set-cookie": clearedSessionCookie() };
  let secret: string;
  try {
    secret = sessionSecret(env());
  } catch {
    return Response.json({ message: "signed out" }, { headers: cleared });
  }
  const session = await readSession(req.headers.get("cookie"), secret);
  // Only a session still valid revokes: an old copied cookie cannot sign its user out again and again.
  if (session && session.subject !== "demo") {
    const { pool } = createContext();
    if (await currentUser(pool, session.subject, session.version))
      await revokeSessions(pool, session.subject);
  }
  return Response.json({ message: "signed out" }, { headers: cleared });
}
