// The sign-in in flight between leaving for the identity provider and coming back: PKCE
// verifier, state, nonce and where to land, sealed in a short-lived cookie. SameSite=Lax, as
// the provider's redirect back is a top-level navigation from another site.
import { sealData, unsealData } from "iron-session";
import { type PendingSignIn, PendingSignInSchema } from "./oidc.ts";
import { cookieValue } from "./session.ts";

const COOKIE = "sagascope_oidc";
const TTL_SECONDS = 600;
const PATH = "/api/auth/oidc";

export async function pendingCookie(
  pending: PendingSignIn,
  secret: string,
  secure: boolean,
): Promise<string> {
  const sealed = await sealData(pending, { password: secret, ttl: TTL_SECONDS });
  return [
    `${COOKIE}=${encodeURIComponent(sealed)}`,
    `Path=${PATH}`,
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${TTL_SECONDS}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export async function readPending(
  cookieHeader: string | null,
  secret: string,
): Promise<PendingSignIn | undefined> {
  const sealed = cookieValue(cookieHeader, COOKIE);
  if (!sealed) return undefined;
  const data = await unsealData(sealed, { password: secret, ttl: TTL_SECONDS }).catch(() => ({}));
  const parsed = PendingSignInSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

export const clearedPendingCookie = () => `${COOKIE}=; Path=${PATH}; HttpOnly; SameSite=Lax; Max-Age=0`;
