// Sessions: a cookie sealed (encrypted and signed) by iron-session, holding who signed in,
// the session's CSRF token and the user's session version it was issued under. Each request
// re-reads the user: a role change applies at once, and a cookie of an older version (the
// user signed out, was disabled or got a new password) is refused.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { sealData, unsealData } from "iron-session";
import { z } from "zod";
import { AppError } from "../errors.ts";

export const SESSION_COOKIE = "sagascope_session";
export const CSRF_HEADER = "x-sagascope-csrf";
const TTL_SECONDS = 12 * 3600;

const SessionSchema = z.object({
  /** A user's id, or "demo" for the demo operator. */
  subject: z.string().min(1),
  csrf: z.string().min(16),
  issuedAt: z.number(),
  /** The user's session version when it was issued (0 for the demo operator). */
  version: z.number().int().min(0),
});
export type Session = z.infer<typeof SessionSchema>;

let demoSecret: string | undefined;

/** The sealing secret: configured, or (demo mode only) one made up for this process. */
export function sessionSecret(config: {
  SAGASCOPE_MODE: string;
  SAGASCOPE_SESSION_SECRET?: string | undefined;
}) {
  if (config.SAGASCOPE_SESSION_SECRET) return config.SAGASCOPE_SESSION_SECRET;
  if (config.SAGASCOPE_MODE !== "demo")
    throw new AppError(
      "UNAVAILABLE",
      "SAGASCOPE_SESSION_SECRET is not set: production mode needs it (32 characters at least) to sign anyone in",
    );
  demoSecret ??= randomBytes(32).toString("base64url");
  return demoSecret;
}

export function newSession(subject: string, version: number): Session {
  return { subject, csrf: randomBytes(24).toString("base64url"), issuedAt: Date.now(), version };
}

/** The request's CSRF token is the session's, compared in constant time. */
export function csrfMatches(session: Pick<Session, "csrf">, token: string | null): boolean {
  if (!token) return false;
  // Digests have one length whatever was sent, so the comparison's time says nothing.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(session.csrf), digest(token));
}

export function cookieValue(cookieHeader: string | null, name = SESSION_COOKIE): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

export async function readSession(cookieHeader: string | null, secret: string): Promise<Session | undefined> {
  const sealed = cookieValue(cookieHeader);
  if (!sealed) return undefined;
  const data = await unsealData(sealed, { password: secret, ttl: TTL_SECONDS }).catch(() => ({}));
  const parsed = SessionSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}

export async function sessionCookie(session: Session, secret: string, secure: boolean): Promise<string> {
  const sealed = await sealData(session, { password: secret, ttl: TTL_SECONDS });
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(sealed)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${TTL_SECONDS}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export const clearedSessionCookie = () => `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
