// Sign-in: email and password checked against the users table; on success a sealed session
// cookie. Only from this site (Origin checked), and the answer never says which part was wrong.
import { z } from "zod";
import { auditRefusal } from "@/server/actions/audit-refusal.ts";
import { sameOrigin } from "@/server/auth/request-auth.ts";
import { newSession, sessionCookie, sessionSecret } from "@/server/auth/session.ts";
import { createSignInThrottle, type SignInThrottle } from "@/server/auth/sign-in-throttle.ts";
import { authenticate } from "@/server/auth/users.ts";
import { env } from "@/server/env.ts";
import { createContext, firstAdminReady } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const holder = globalThis as unknown as { sagascopeSignInThrottle?: SignInThrottle };
if (!holder.sagascopeSignInThrottle) holder.sagascopeSignInThrottle = createSignInThrottle();
const throttle = holder.sagascopeSignInThrottle;

const CredentialsSchema = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(200),
});

const answer = (status: number, message: string, headers: Record<string, string> = {}) =>
  Response.json({ message }, { status, headers });

/** A refused sign-in goes on the audit log (bounded, see audit-refusal.ts); never with the password. */
const refused = (email: string, why: string) =>
  auditRefusal(createContext().pool, {
    actor: "anonymous",
    actorRole: "none",
    action: "sign-in",
    target: email,
    why,
  }).catch(() => undefined);

export async function POST(req: Request): Promise<Response> {
  if (!sameOrigin(req)) {
    await refused("", "not from this site (no or another Origin)");
    return answer(403, "sign-in refused: the request did not come from this site");
  }
  const config = env();
  let secret: string;
  try {
    secret = sessionSecret(config);
  } catch (error) {
    return answer(503, (error as Error).message);
  }
  const parsed = CredentialsSchema.safeParse(await req.json().catch(() => undefined));
  if (!parsed.success) return answer(400, "give an email and a password");
  // Per email, and per client address when a proxy in front names it.
  const client = req.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  const keys = [`email:${parsed.data.email.toLowerCase()}`, ...(client ? [`ip:${client}`] : [])];
  const wait = throttle.retryAfterMs(keys);
  if (wait > 0) {
    await refused(parsed.data.email, "too many failed sign-ins: slowed down");
    return answer(429, `too many failed sign-ins: try again in ${Math.ceil(wait / 60_000)} min`, {
      "retry-after": String(Math.ceil(wait / 1000)),
    });
  }
  await firstAdminReady();
  const signedIn = await authenticate(createContext().pool, parsed.data.email, parsed.data.password);
  if (!signedIn) {
    throttle.failed(keys);
    await refused(parsed.data.email, "wrong email or password, or a disabled user");
    return answer(401, "wrong email or password (or the account is disabled)");
  }
  throttle.succeeded(keys);
  const { actor, sessionVersion } = signedIn;
  const cookie = await sessionCookie(
    newSession(actor.id, sessionVersion),
    secret,
    config.SAGASCOPE_COOKIE_SECURE,
  );
  return answer(200, `signed in as ${actor.email} (${actor.role})`, { "set-cookie": cookie });
}
