// What a choreographed saga type is: its steps in order, each owned by a service. There is
// no coordinator; the definition only lets every participant describe its part of the saga
// in the contract's terms (step names, indices, timeouts), so the dashboard can rebuild
// the whole saga from the participants' events.
import { AppError } from "../../errors.ts";

export interface ChoreographyStep {
  name: string;
  service: string;
  /** How long the step may take once its trigger has been published; past it the saga is reported stuck. */
  timeoutMs: number;
}

export interface Choreography {
  type: string;
  steps: ChoreographyStep[];
}

export function defineChoreography(choreography: Choreography): Choreography {
  const names = new Set(choreography.steps.map((s) => s.name));
  if (choreography.steps.length === 0 || names.size !== choreography.steps.length) {
    throw new AppError("BAD_REQUEST", `saga ${choreography.type}: steps must be non-empty with unique names`);
  }
  return choreography;
}

export function stepIndex(choreography: Choreography, name: string): number {
  const index = choreography.steps.findIndex((s) => s.name === name);
  if (index < 0) throw new AppError("BAD_REQUEST", `saga ${choreography.type} has no step ${name}`);
  return index;
}
