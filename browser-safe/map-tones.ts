// How the service map colours what it draws: breaker edges by what the breaker does now,
// everything else by its error rate or its lag. A tone is a colour role the page maps to
// the theme's variables (ok, warn, bad, muted for idle).

export type Tone = "ok" | "warn" | "bad" | "idle";
export type ShownBreakerState = "closed" | "open" | "half_open" | "disabled";

/** From this share of failed steps or calls a node or edge turns amber, and from the second red. */
export const ERROR_RATE_WARN = 0.05;
export const ERROR_RATE_BAD = 0.2;
/** How long a change or event may wait before the consumer behind it turns amber, then red. */
export const LAG_WARN_MS = 5_000;
export const LAG_BAD_MS = 30_000;

/** failures / calls, or null when nothing was called (no rate rather than a rate of 0). */
export const errorRate = (failures: number, calls: number): number | null =>
  calls > 0 ? failures / calls : null;

export function rateTone(rate: number | null): Tone {
  if (rate === null) return "idle";
  if (rate >= ERROR_RATE_BAD) return "bad";
  if (rate >= ERROR_RATE_WARN) return "warn";
  return "ok";
}

export function lagTone(lagMs: number | null): Tone {
  if (lagMs === null || lagMs < LAG_WARN_MS) return "ok";
  return lagMs >= LAG_BAD_MS ? "bad" : "warn";
}

/** What the breaker does now: an operator's override wins over the state machine (as on the breakers page). */
export const shownBreakerState = (
  state: "closed" | "open" | "half_open",
  forced: "open" | "closed" | "disabled" | null,
): ShownBreakerState => forced ?? state;

const BREAKER_TONES: Record<ShownBreakerState, Tone> = {
  closed: "ok",
  half_open: "warn",
  open: "bad",
  disabled: "idle",
};

export const breakerTone = (shown: ShownBreakerState): Tone => BREAKER_TONES[shown];

export const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
