// Single sign-on, step one: off to the identity provider (authorization code with PKCE).
import { safeNextPath } from "@/components/auth/safe-next.ts";
import { oidcSettings, startSignIn } from "@/server/auth/oidc.ts";
import { pendingCookie } from "@/server/auth/oidc-pending.ts";
import { sessionSecret } from "@/server/auth/session.ts";
import { env } from "@/server/env.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const plain = (status: number, text: string) =>
  new Response(`${text}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export async function GET(req: Request): Promise<Response> {
  const config = env();
  try {
    const settings = oidcSettings(config);
    if (!settings) return plain(404, "single sign-on is not set up here (SAGASCOPE_OIDC_ISSUER)");
    const next = safeNextPath(new URL(req.url).searchParams.get("next"));
    const { url, pending } = await startSignIn(settings, next);
    return new Response(null, {
      status: 302,
      headers: {
        location: url.href,
        "set-cookie": await pendingCookie(pending, sessionSecret(config), config.SAGASCOPE_COOKIE_SECURE),
      },
    });
  } catch (error) {
    return plain(503, error instanceof Error ? error.message : String(error));
  }
}
