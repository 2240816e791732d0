// One rule's state for one subject, from what is seen now. Pending while the condition has
// held for less than `forSeconds`; firing (said once) once it has; resolving while it has been
// gone for less than `holdSeconds` (coming back in that time is not a new alert: no
// flapping); resolved (said once) after. Pure.
export type AlertStateName = "pending" | "firing" | "resolving" | "resolved";

export interface AlertState {
  state: AlertStateName;
  since: Date;
  firedAt: Date | null;
  lastTrueAt: Date;
  resolvedAt: Date | null;
  value: number | null;
}

export type AlertEvent = "firing" | "resolved" | null;

export function nextAlertState(
  previous: AlertState | undefined,
  holds: { value: number } | null,
  now: Date,
  timing: { forSeconds: number; holdSeconds: number },
): { state: AlertState | undefined; event: AlertEvent } {
  const t = now.getTime();
  if (holds) {
    if (!previous || previous.state === "resolved") {
      const pending: AlertState = {
        state: "pending",
        since: now,
        firedAt: null,
        lastTrueAt: now,
        resolvedAt: null,
        value: holds.value,
      };
      return timing.forSeconds === 0
        ? { state: { ...pending, state: "firing", firedAt: now }, event: "firing" }
        : { state: pending, event: null };
    }
    if (previous.state === "pending") {
      const due = t - previous.since.getTime() >= timing.forSeconds * 1000;
      return due
        ? {
            state: { ...previous, state: "firing", firedAt: now, lastTrueAt: now, value: holds.value },
            event: "firing",
          }
        : { state: { ...previous, lastTrueAt: now, value: holds.value }, event: null };
    }
    // firing, or resolving and back within the hold: still the same alert.
    return { state: { ...previous, state: "firing", lastTrueAt: now, value: holds.value }, event: null };
  }
  if (!previous || previous.state === "resolved") return { state: previous, event: null };
  // Pending that never fired: nothing was said, nothing to take back.
  if (previous.state === "pending") return { state: undefined, event: null };
  const gone = t - previous.lastTrueAt.getTime() >= timing.holdSeconds * 1000;
  return gone
    ? { state: { ...previous, state: "resolved", resolvedAt: now }, event: "resolved" }
    : { state: { ...previous, state: "resolving" }, event: null };
}
