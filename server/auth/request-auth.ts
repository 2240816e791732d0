// Who is behind one HTTP request: the signed-in user from the session cookie, or in demo
// mode the demo operator (given a session of its own, so it has a CSRF token too). Also
// whether a state-changing request is safe: same origin, and the session's CSRF token.

import { type Actor, DEMO_OPERATOR } from "../../browser-safe/roles.ts";
import type { Pool } from "../db/pool.ts";
import type { Env } from "../env.ts";
import type { AppError } from "../errors.ts";
import {
  CSRF_HEADER,
  csrfMatches,
  newSession,
  readSession,
  type Session,
  sessionCookie,
  sessionSecret,
} from "./session.ts";
import { currentUser } from "./users.ts";

export interface RequestAuth {
  actor: Actor | null;
  /** The session's CSRF token, for the page to send back with every action. */
  csrf: string | null;
  /** The request carried the session's CSRF token and came from this site. */
  safeForActions: boolean;
  /** Why nobody can sign in (e.g. no session secret in production), if so. */
  problem: string | null;
  /** Whether the request's session still holds now (for a live feed that outlives the request). */
  stillSignedIn: () => Promise<boolean>;
}

const always = async () => true;

type AuthConfig = Pick<Env, "SAGASCOPE_MODE" | "SAGASCOPE_SESSION_SECRET" | "SAGASCOPE_COOKIE_SECURE">;

/**
 * The Origin (or else the Referer) of a request names this host. A request naming neither
 * is refused: every browser sends Origin with a POST from a page, so only a client that hid
 * both (or a tool) lacks them, and a state-changing request must prove where it comes from.
 */
export function sameOrigin(req: Request): boolean {
  const from = req.headers.get("origin") ?? req.headers.get("referer");
  if (!from) return false;
  try {
    return new URL(from).host === (req.headers.get("x-forwarded-host") ?? req.headers.get("host"));
  } catch {
    return false;
  }
}

/** tRPC's auth.me, alone or in a batch. */
const asksWhoAmI = (req: Request) => new URL(req.url).pathname.split(/[/,]/).includes("auth.me");

export async function resolveRequestAuth(
  req: Request,
  resHeaders: Headers | undefined,
  pool: Pick<Pool, "query">,
  config: AuthConfig,
): Promise<RequestAuth> {
  let secret: string;
  try {
    secret = sessionSecret(config);
  } catch (error) {
    return {
      actor: null,
      csrf: null,
      safeForActions: false,
      problem: (error as AppError).message,
      stillSignedIn: always,
    };
  }
  let session: Session | undefined = await readSession(req.headers.get("cookie"), secret);
  let actor: Actor | null = null;
  if (session?.subject === "demo") actor = config.SAGASCOPE_MODE === "demo" ? DEMO_OPERATOR : null;
  else if (session) actor = (await currentUser(pool, session.subject, session.version)) ?? null;
  if (!actor && config.SAGASCOPE_MODE === "demo") {
    // Only the page's "who am I" request starts a demo session: requests sent at once by a
    // first visit would otherwise each start their own, and the token the page keeps could
    // belong to a session the browser did not keep. The others read as the demo operator.
    if (!asksWhoAmI(req))
      return {
        actor: DEMO_OPERATOR,
        csrf: null,
        safeForActions: false,
        problem: null,
        stillSignedIn: always,
      };
    session = newSession("demo", 0);
    resHeaders?.append("set-cookie", await sessionCookie(session, secret, config.SAGASCOPE_COOKIE_SECURE));
    actor = DEMO_OPERATOR;
    // A fresh session's token cannot be in this request yet: only later ones can act.
    return { actor, csrf: session.csrf, safeForActions: false, problem: null, stillSignedIn: always };
  }
  const token = req.headers.get(CSRF_HEADER);
  return {
    actor,
    csrf: actor ? (session?.csrf ?? null) : null,
    safeForActions: Boolean(actor && session && csrfMatches(session, token) && sameOrigin(req)),
    problem: null,
    stillSignedIn:
      actor?.via === "session" && session
        ? async () => (await currentUser(pool, session.subject, session.version)) !== undefined
        : always,
  };
}
