// Test helper: the StepFailure a piece of work rejects with (the test fails if it resolves
// or rejects with anything else).
import { expect } from "vitest";
import { StepFailure } from "../../server/sagas/index.ts";

export async function stepFailureOf(work: Promise<unknown>): Promise<StepFailure> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StepFailure);
  return error as StepFailure;
}
