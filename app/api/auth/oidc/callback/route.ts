// Single sign-on, step two: back from the identity provider. The code is exchanged (PKCE,
// state and nonce checked), the user's groups give their role; who has none is refused and
// audited. The session cookie (SameSite=Strict) is set on a page that then moves on: a
// redirect straight from here would still count as the provider's cross-site navigation, and
// the browser would not send the new cookie with it.
import { auditRefusal } from "@/server/actions/audit-refusal.ts";
import { finishSignIn, oidcSettings } from "@/server/auth/oidc.ts";
import { clearedPendingCookie, readPending } from "@/server/auth/oidc-pending.ts";
import { newSession, sessionCookie, sessionSecret } from "@/server/auth/session.ts";
import { signInSsoUser } from "@/server/auth/users.ts";
import { env } from "@/server/env.ts";
import { createContext } from "@/server/trpc/context.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const htmlText = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

function page(status: number, title: string, body: string, headers: Headers, refreshTo?: string): Response {
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  const refresh = refreshTo ? `<meta http-equiv="refresh" content="0;url=${htmlText(refreshTo)}">` : "";
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>${htmlText(title)} · Sagascope</title></head>` +
      `<body><main><h1>${htmlText(title)}</h1><p>${body}</p></main></body></html>`,
    { status, headers },
  );
}

export async function GET(req: Request): Promise<Response> {
  const config = env();
  const headers = new Headers({ "set-cookie": clearedPendingCookie() });
  const signInAgain = '<a href="/sign-in">Back to sign-in</a>';
  const refuse = async (status: number, why: string, email = "") => {
    await auditRefusal(createContext().pool, {
      actor: "anonymous",
      actorRole: "none",
      action: "sign-in.sso",
      target: email,
      why,
    }).catch(() => undefined);
    return page(status, "Not signed in", `${htmlText(why)}. ${signInAgain}`, headers);
  };
  try {
    const settings = oidcSettings(config);
    if (!settings) return page(404, "Not signed in", "Single sign-on is not set up here.", headers);
    const secret = sessionSecret(config);
    const pending = await readPending(req.headers.get("cookie"), secret);
    if (!pending)
      return await refuse(400, "this sign-in was not started here, or took longer than 10 minutes");
    const url = new URL(req.url);
    // As the provider was told (behind a proxy the request's own URL may differ).
    const callback = new URL(`${settings.redirectUri}${url.search}`);
    const identity = await finishSignIn(settings, callback, pending);
    if (!identity.role)
      return await refuse(
        403,
        `${identity.email} signed in at ${settings.issuer.host}, but none of their ${settings.roleClaim} (${identity.groups.join(", ") || "none"}) gives a Sagascope role`,
        identity.email,
      );
    const signedIn = await signInSsoUser(createContext().pool, {
      email: identity.email,
      name: identity.name,
      role: identity.role,
    });
    if (!signedIn.ok) return await refuse(403, signedIn.why, identity.email);
    headers.append(
      "set-cookie",
      await sessionCookie(
        newSession(signedIn.actor.id, signedIn.sessionVersion),
        secret,
        config.SAGASCOPE_COOKIE_SECURE,
      ),
    );
    return page(
      200,
      "Signed in",
      `Signed in as ${htmlText(identity.email)} (${identity.role}). <a href="${htmlText(pending.next)}">Continue</a>`,
      headers,
      pending.next,
    );
  } catch (error) {
    return refuse(400, `single sign-on failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
