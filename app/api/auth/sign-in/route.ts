// Sign-in: email and password checked against the users table; on success a sealed session
// cookie. Only from this site (Origin checked), and the answer never says which part was
// wrong. Every attempt is counted before the password is checked (server/auth/sign-in-throttle.ts);
// refused ones go on the audit log.
import { z } from "zod";
import { auditRefusal } from "@/server/actions/audit-refusal.ts";
import { sameOrigin } from "@/server/auth/request-auth.ts";
import { newSession, sessionCookie, sessionSecret } from "@/server/auth/session.ts";
import {
  claimSignInAttempt,
  clientAddress,
  forgetOldAttempts,
  signInSucceeded,
} from "@/server/auth/sign-in-throttle.ts";
import { authenticate } from "@/server/auth/users.ts";
import { env } from "@/server/env.ts";
import { createContext, firstAdminReady } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

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

const holder = globalThis as unknown as { sagascopeThrottleSweptAt?: number };

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
  const { pool } = createContext();
  const attempt = {
    email: parsed.data.email,
    address: clientAddress(req.headers.get("x-forwarded-for"), config.SAGASCOPE_TRUSTED_PROXY_HOPS),
  };
  if (Date.now() - (holder.sagascopeThrottleSweptAt ?? 0) > 60_000) {
    holder.sagascopeThrottleSweptAt = Date.now();
    await forgetOldAttempts(pool).catch(() => undefined);
  }
  const wait = await claimSignInAttempt(pool, attempt);
  if (wait > 0) {
    await refused(parsed.data.email, "too many sign-in attempts: slowed down");
    const seconds = Math.ceil(wait / 1000);
    return answer(429, `too many sign-in attempts: try again in ${seconds} s`, {
      "retry-after": String(seconds),
    });
  }
  await firstAdminReady();
  const signedIn = await authenticate(pool, parsed.data.email, parsed.data.password);
  if (!signedIn) {
    await refused(parsed.data.email, "wrong email or password, or a disabled user");
    return answer(401, "wrong email or password (or the account is disabled)");
  }
  await signInSucceeded(pool, attempt);
  const { actor, sessionVersion } = signedIn;
  const cookie = await sessionCookie(
    newSession(actor.id, sessionVersion),
    secret,
    config.SAGASCOPE_COOKIE_SECURE,
  );
  return answer(200, `signed in as ${actor.email} (${actor.role})`, { "set-cookie": cookie });
}
