// Single sign-on with an OpenID Connect provider, through openid-client: the authorization
// code flow with PKCE, state and nonce; the user's role from a claim (their groups) by the
// deployment's mapping. Who has no mapped value gets no role and is refused.
import * as client from "openid-client";
import { z } from "zod";
import { ROLES, type Role } from "../../browser-safe/roles.ts";
import type { Env } from "../env.ts";
import { AppError } from "../errors.ts";

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  clientSecret: string | undefined;
  name: string;
  roleClaim: string;
  /** Claim value → role. */
  roles: Map<string, Role>;
  redirectUri: string;
}

type OidcEnv = Pick<
  Env,
  | "SAGASCOPE_OIDC_ISSUER"
  | "SAGASCOPE_OIDC_CLIENT_ID"
  | "SAGASCOPE_OIDC_CLIENT_SECRET"
  | "SAGASCOPE_OIDC_NAME"
  | "SAGASCOPE_OIDC_ROLE_CLAIM"
  | "SAGASCOPE_OIDC_ROLES"
  | "SAGASCOPE_PUBLIC_URL"
>;

/** `admin=ops-leads;operator=on-call,sre` → each value's role. */
export function parseRoleMapping(text: string): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const entry of text
    .split(";")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [role, values] = entry.split("=", 2);
    const parsed = z.enum(ROLES).safeParse(role?.trim());
    if (!parsed.success || !values)
      throw new AppError(
        "BAD_REQUEST",
        `SAGASCOPE_OIDC_ROLES: "${entry}" is not role=value[,value…] (roles: ${ROLES.join(", ")})`,
      );
    for (const value of values
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean))
      roles.set(value, parsed.data);
  }
  return roles;
}

/** The settings, or undefined when single sign-on is off; an incomplete setup is said plainly. */
export function oidcSettings(config: OidcEnv): OidcSettings | undefined {
  if (!config.SAGASCOPE_OIDC_ISSUER) return undefined;
  if (!config.SAGASCOPE_OIDC_CLIENT_ID)
    throw new AppError("UNAVAILABLE", "SAGASCOPE_OIDC_ISSUER is set but SAGASCOPE_OIDC_CLIENT_ID is not");
  if (!config.SAGASCOPE_PUBLIC_URL)
    throw new AppError(
      "UNAVAILABLE",
      "single sign-on needs SAGASCOPE_PUBLIC_URL: the provider sends users back to <it>/api/auth/oidc/callback",
    );
  const roles = parseRoleMapping(config.SAGASCOPE_OIDC_ROLES);
  if (roles.size === 0)
    throw new AppError(
      "UNAVAILABLE",
      "single sign-on needs SAGASCOPE_OIDC_ROLES: which groups give which role",
    );
  return {
    issuer: new URL(config.SAGASCOPE_OIDC_ISSUER),
    clientId: config.SAGASCOPE_OIDC_CLIENT_ID,
    clientSecret: config.SAGASCOPE_OIDC_CLIENT_SECRET,
    name: config.SAGASCOPE_OIDC_NAME,
    roleClaim: config.SAGASCOPE_OIDC_ROLE_CLAIM,
    roles,
    redirectUri: `${config.SAGASCOPE_PUBLIC_URL.replace(/\/$/, "")}/api/auth/oidc/callback`,
  };
}

const discovered = new Map<string, Promise<client.Configuration>>();

/** The provider's configuration (discovery), once per process; a failed discovery is tried again next time. */
function providerOf(s: OidcSettings): Promise<client.Configuration> {
  const key = `${s.issuer.href}|${s.clientId}`;
  let found = discovered.get(key);
  if (!found) {
    found = client
      .discovery(
        s.issuer,
        s.clientId,
        s.clientSecret,
        undefined,
        // A provider on plain HTTP is for a trusted network (and the tests); HTTPS otherwise.
        s.issuer.protocol === "http:" ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((error: unknown) => {
        discovered.delete(key);
        throw new AppError(
          "UNAVAILABLE",
          `the identity provider ${s.issuer.href} cannot be reached: ${String(error)}`,
        );
      });
    discovered.set(key, found);
  }
  return found;
}

/** What the browser carries (sealed) between leaving for the provider and coming back. */
export const PendingSignInSchema = z.object({
  codeVerifier: z.string().min(43),
  state: z.string().min(16),
  nonce: z.string().min(16),
  next: z.string(),
});
export type PendingSignIn = z.infer<typeof PendingSignInSchema>;

export async function startSignIn(
  s: OidcSettings,
  next: string,
): Promise<{ url: URL; pending: PendingSignIn }> {
  const provider = await providerOf(s);
  const codeVerifier = client.randomPKCECodeVerifier();
  const pending = { codeVerifier, state: client.randomState(), nonce: client.randomNonce(), next };
  const url = client.buildAuthorizationUrl(provider, {
    redirect_uri: s.redirectUri,
    scope: `openid email profile ${s.roleClaim}`,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state: pending.state,
    nonce: pending.nonce,
  });
  return { url, pending };
}

export interface SsoIdentity {
  subject: string;
  email: string;
  name: string;
  /** The claim's values as the provider sent them (for the refusal's message). */
  groups: string[];
  role: Role | undefined;
}

const RANK = (role: Role) => ROLES.indexOf(role);

/** The highest role any of the user's claim values maps to. */
export function roleOf(groups: string[], roles: Map<string, Role>): Role | undefined {
  let best: Role | undefined;
  for (const g of groups) {
    const role = roles.get(g);
    if (role && (!best || RANK(role) > RANK(best))) best = role;
  }
  return best;
}

/** Completes the flow: the code exchanged (PKCE, state and nonce checked), the user's claims read. */
export async function finishSignIn(
  s: OidcSettings,
  callback: URL,
  pending: PendingSignIn,
): Promise<SsoIdentity> {
  const provider = await providerOf(s);
  const tokens = await client.authorizationCodeGrant(provider, callback, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
  });
  const idClaims = tokens.claims();
  if (!idClaims) throw new AppError("UNAUTHORIZED", "the identity provider sent no ID token");
  // Providers put groups in the ID token or only in userinfo: read both.
  const info = await client.fetchUserInfo(provider, tokens.access_token, idClaims.sub);
  const claims: Record<string, unknown> = { ...info, ...idClaims };
  const raw = claims[s.roleClaim];
  const groups = (Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : []).map(String);
  const email = typeof claims.email === "string" ? claims.email.toLowerCase() : undefined;
  if (!email)
    throw new AppError("UNAUTHORIZED", "the identity provider did not say the user's email (scope email)");
  // The email names the user here: one the provider itself has not verified names nobody.
  if (claims.email_verified === false)
    throw new AppError("UNAUTHORIZED", `the identity provider has not verified ${email}`);
  return {
    subject: idClaims.sub,
    email,
    name: typeof claims.name === "string" ? claims.name : email,
    groups,
    role: roleOf(groups, s.roles),
  };
}
