// Slows password guessing: after a few failed sign-ins for one email (or from one address)
// within a window, further attempts are refused until the window has passed. Kept in the
// web process's memory: a restart forgets it, which only ever helps the legitimate user.
export interface SignInThrottle {
  /** Milliseconds to wait before trying again, or 0 when an attempt may go ahead. */
  retryAfterMs(keys: string[], now?: number): number;
  failed(keys: string[], now?: number): void;
  succeeded(keys: string[]): void;
}

export function createSignInThrottle(options = { maxFailures: 5, windowMs: 15 * 60_000 }): SignInThrottle {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) =>
    (failures.get(key) ?? []).filter((at) => now - at < options.windowMs);
  return {
    retryAfterMs(keys, now = Date.now()) {
      let wait = 0;
      for (const key of keys) {
        const times = recent(key, now);
        failures.set(key, times);
        if (times.length >= options.maxFailures)
          wait = Math.max(
            wait,
            (times[times.length - options.maxFailures] as number) + options.windowMs - now,
          );
      }
      return wait;
    },
    failed(keys, now = Date.now()) {
      for (const key of keys) failures.set(key, [...recent(key, now), now]);
      // Bounded memory under a flood of made-up emails.
      if (failures.size > 50_000) failures.clear();
    },
    succeeded(keys) {
      for (const key of keys) failures.delete(key);
    },
  };
}
