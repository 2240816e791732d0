// The phases an operator action goes through on the audit log, in order, and which of them
// end it. One list for the log, its page and the action buttons that follow an action.

export const PHASES = ["requested", "pending", "done", "failed", "refused", "denied"] as const;
export type Phase = (typeof PHASES)[number];

/** Phases that end an action. */
export const FINAL_PHASES: ReadonlySet<Phase> = new Set(["done", "failed", "refused", "denied"]);

export const isFinalPhase = (phase: string): boolean => FINAL_PHASES.has(phase as Phase);
