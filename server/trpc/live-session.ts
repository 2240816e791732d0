// A live feed lasts as long as the session that opened it: the session is checked again every
// few seconds, and when the user was disabled, signed out or given a new password the feed
// ends with UNAUTHORIZED (the page then asks them to sign in), not at the next page load.
import "server-only";
import { TRPCError } from "@trpc/server";
import type { RequestAuth } from "../auth/request-auth.ts";

export const SESSION_RECHECK_MS = 5_000;

export async function* whileSignedIn<T>(
  auth: Pick<RequestAuth, "stillSignedIn"> | undefined,
  signal: AbortSignal | undefined,
  feed: (signal: AbortSignal) => AsyncIterable<T>,
  everyMs = SESSION_RECHECK_MS,
): AsyncGenerator<T> {
  const inner = new AbortController();
  const stop = () => inner.abort();
  signal?.addEventListener("abort", stop, { once: true });
  let revoked = false;
  const timer = auth
    ? setInterval(() => {
        auth
          .stillSignedIn()
          .then((ok) => {
            if (!ok) {
              revoked = true;
              inner.abort();
            }
          })
          // A database that does not answer now ends nothing: the next check decides.
          .catch(() => undefined);
      }, everyMs)
    : undefined;
  try {
    for await (const item of feed(inner.signal)) yield item;
  } finally {
    clearInterval(timer);
    signal?.removeEventListener("abort", stop);
  }
  if (revoked)
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "signed out: this session ended (signed out elsewhere, disabled, or a new password)",
    });
}
