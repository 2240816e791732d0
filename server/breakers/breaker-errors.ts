// What a call through a breaker throws when the breaker, not the callee, decides its fate:
// refused at once by an open breaker, or given up on past its time limit.
import { AppError } from "../errors.ts";
import { type BreakerSnapshot, effectiveForced } from "./breaker-machine.ts";

/** A call refused by an open (or forced open) breaker, at once, without touching the callee. */
export class BreakerOpenError extends AppError {
  override name = "BreakerOpenError";
  constructor(
    readonly pair: string,
    readonly snapshot: BreakerSnapshot,
    readonly retryAfterMs: number,
  ) {
    const forced = effectiveForced(snapshot, Date.now());
    super(
      "UNAVAILABLE",
      `breaker ${pair} is ${forced ? `forced ${forced}` : snapshot.state}: ${snapshot.reason}`,
    );
  }
}

/** A call through the breaker that took longer than its time limit (it counts as a failure). */
export class BreakerTimeoutError extends AppError {
  override name = "BreakerTimeoutError";
  constructor(
    readonly pair: string,
    readonly timeoutMs: number,
  ) {
    super("UNAVAILABLE", `call ${pair} took longer than ${timeoutMs} ms`);
  }
}

/** `work`, or `timedOut()` thrown once `ms` have passed (the work itself runs on). */
export function within<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
