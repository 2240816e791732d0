// How the breakers page names a pair, a state and a rate, the same way in the matrix, the
// detail and the list.
import type { BreakerDto } from "@/server/dashboard/breakers/list-breakers.ts";

export type ShownState = "closed" | "open" | "half_open" | "disabled";

export const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

export const stateLabel = (state: string) => state.replace("_", "-");

/** What the breaker does now: an override wins over the state machine. */
export const shownState = (b: Pick<BreakerDto, "state" | "forced">): ShownState => b.forced ?? b.state;

export const pairLabel = (b: Pick<BreakerDto, "caller" | "callee" | "operation">) =>
  `${b.caller} → ${b.callee}${b.operation ? ` / ${b.operation}` : ""}`;

/** e.g. "transfers → bank-b: open, forced". */
export const stateSummary = (b: Pick<BreakerDto, "caller" | "callee" | "operation" | "state" | "forced">) =>
  `${pairLabel(b)}: ${stateLabel(shownState(b))}${b.forced ? ", forced" : ""}`;

/** The figures the breaker judges by: the live window while closed, those that opened it otherwise. */
export const evaluatedFigures = (b: Pick<BreakerDto, "state" | "window" | "lastEvaluation">) =>
  b.state === "closed" ? b.window : b.lastEvaluation;

/** The failure-rate threshold: its Redis settings, or what its own library last reported. */
export const thresholdOf = (b: Pick<BreakerDto, "config" | "reported">): number | null =>
  b.config?.failureRate ?? b.reported?.failureRate ?? null;

/** "threshold 50%", or that the pair's library has not said. */
export const thresholdText = (b: Pick<BreakerDto, "config" | "reported">): string => {
  const t = thresholdOf(b);
  return t === null ? "threshold not reported" : `threshold ${pct(t)}`;
};

export const minimumCallsOf = (b: Pick<BreakerDto, "config" | "reported">): number | null =>
  b.config?.minimumCalls ?? b.reported?.minimumCalls ?? null;

export const windowOf = (b: Pick<BreakerDto, "config" | "reported">): number | null =>
  b.config?.windowMs ?? b.reported?.windowMs ?? null;

/** Joins the class names that apply. */
export const cx = (...names: (string | false | null | undefined)[]) => names.filter(Boolean).join(" ");
